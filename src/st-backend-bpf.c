/* st-backend-bpf.c: the eBPF backend.
 *
 * One task-iterator read per sample gives every thread's exact CPU time
 * (se.sum_exec_runtime, not tick-sampled utime/stime), its group's RSS and
 * its syscall count from task-local storage; user space folds threads into
 * processes. Loads only the iterator flavour that matches the running
 * kernel's mm RSS layout, decided here from vmlinux BTF: libbpf 1.1 without
 * CAP_SYS_ADMIN fails a whole object when a relocation names a type the
 * kernel lacks, so the other flavour must not be loaded at all.
 */
#define G_LOG_DOMAIN "smoothtask-bpf"

#include "config.h"

#include "st-backend.h"
#include "st-privileges.h"
#include "st-task-records.h"

#ifdef HAVE_BPF

#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "collector.skel.h"

typedef struct {
  StBackend parent;
  struct collector_bpf *skel;
  struct bpf_link *iter_link;
  /* The counting hooks, attached only while syscalls are counted. */
  struct bpf_link *hook_links[3];
  gboolean deferred;
  gboolean counting;
  int n_cpus;
  guint64 page_size;
  GByteArray *buf;
  GHashTable *by_tgid; /* tgid -> index in the output array, reused per read */
} StBackendBpf;

static int
libbpf_to_glib(enum libbpf_print_level level, const char *fmt, va_list args)
{
  g_autofree char *msg = g_strdup_vprintf(fmt, args);
  g_strchomp(msg);
  /* The backend explains every failure itself; libbpf's own lines are
   * detail, in a domain of their own: only --debug shows them. */
  g_log("libbpf", G_LOG_LEVEL_DEBUG, "%s", msg);
  return 0;
}

/* Decides from the running kernel's BTF which programs to load: the RSS
 * counter layout (changed in 6.2), and whether the iterator may read another
 * CPU's slot (bpf_map_lookup_percpu_elem, 5.19) for the deferred syscall
 * count. The deferred scheme also reads thread_info.cpu, where x86-64 and
 * arm64 keep a task's CPU. */
static gboolean
inspect_kernel(gboolean *old_layout, gboolean *deferred, GError **error)
{
  struct btf *btf = btf__load_vmlinux_btf();

  if (btf == NULL) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The kernel has no BTF type information (/sys/kernel/btf/vmlinux); "
                "it must be built with CONFIG_DEBUG_INFO_BTF=y");
    return FALSE;
  }
  *old_layout = btf__find_by_name_kind(btf, "mm_rss_stat", BTF_KIND_STRUCT) >= 0;
#if defined(__x86_64__) || defined(__aarch64__)
  *deferred = btf__find_by_name_kind(btf, "bpf_map_lookup_percpu_elem", BTF_KIND_FUNC) >= 0;
#else
  *deferred = FALSE;
#endif
  if (g_strcmp0(g_getenv("SMOOTHTASK_TEST_BPF_DIRECT"), "1") == 0)
    *deferred = FALSE; /* lets tests cover the older kernels' scheme */
  /* Lets a test try the pre-6.2 RSS flavour here. Never for a binary with
   * file capabilities (AT_SECURE): its environment is the caller's. */
  if (g_strcmp0(g_getenv("SMOOTHTASK_TEST_BPF_OLD_RSS"), "1") == 0 && getauxval(AT_SECURE) == 0)
    *old_layout = TRUE;
  btf__free(btf);
  return TRUE;
}

static const char *
explain_errno(int err)
{
  switch (err) {
    case EACCES:
      /* With the privileges, EACCES is the verifier saying no. */
      if (st_privileges_has(CAP_BPF_BIT) || st_privileges_has(CAP_SYS_ADMIN_BIT))
        return "the kernel's verifier rejected a program (run with --debug for its log)";
      /* fall through */
    case EPERM:
      return "the kernel refused to load BPF programs: SmoothTask needs CAP_BPF and "
             "CAP_PERFMON (or root); see " DOCDIR "/bpf-setup.md";
    case EINVAL:
    case 524: /* ENOTSUPP, kernel-internal */
    case EOPNOTSUPP:
    case ENOENT:
      return "the kernel does not support a needed BPF feature (Linux 5.11 or later with "
             "task-local storage and task iterators is required)";
    default:
      return "loading the BPF programs failed";
  }
}

static gboolean
bpf_read(StBackend *backend, StRawSample *out, GError **error)
{
  StBackendBpf *self = (StBackendBpf *)backend;
  g_autofree struct st_cpu_counts *percpu = g_new0(struct st_cpu_counts, self->n_cpus);
  guint32 zero = 0;
  int fd;

  fd = bpf_iter_create(bpf_link__fd(self->iter_link));
  if (fd < 0) {
    int saved = errno;
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED,
                "Cannot create the task iterator: %s", g_strerror(saved));
    return FALSE;
  }
  g_byte_array_set_size(self->buf, 0);
  for (;;) {
    guint8 chunk[16384];
    gssize n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED,
                  "Reading the task iterator failed: %s", g_strerror(saved));
      return FALSE;
    }
    if (n == 0)
      break;
    g_byte_array_append(self->buf, chunk, (guint)n);
  }
  close(fd);

  if (!st_task_records_fold(self->buf->data, self->buf->len, self->page_size, self->by_tgid,
                            out->procs))
    g_warning("The task iterator returned %u bytes, not a whole number of records", self->buf->len);

  out->has_syscalls = self->counting;
  out->syscalls_total = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.cpu_counts), &zero, percpu) == 0) {
    for (int i = 0; i < self->n_cpus; i++)
      out->syscalls_total += percpu[i].total;
  } else {
    out->has_syscalls = FALSE;
  }
  return TRUE;
}

static void
detach_hooks(StBackendBpf *self)
{
  for (guint i = 0; i < G_N_ELEMENTS(self->hook_links); i++)
    g_clear_pointer(&self->hook_links[i], bpf_link__destroy);
  self->counting = FALSE;
}

static gboolean
bpf_set_counting(StBackend *backend, gboolean on, GError **error)
{
  StBackendBpf *self = (StBackendBpf *)backend;
  struct bpf_program *progs[3];
  guint n = 0;

  if (on == self->counting)
    return TRUE;
  if (!on) {
    detach_hooks(self);
    return TRUE;
  }
  /* What was left in the per-CPU slots when counting last stopped belongs
   * to nobody now. */
  {
    g_autofree struct st_cpu_counts *percpu = g_new0(struct st_cpu_counts, self->n_cpus);
    guint32 zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.cpu_counts), &zero, percpu) == 0) {
      for (int i = 0; i < self->n_cpus; i++)
        percpu[i].pending = 0;
      bpf_map_update_elem(bpf_map__fd(self->skel->maps.cpu_counts), &zero, percpu, BPF_ANY);
    }
  }
  /* The exit hook first and the syscall hook last: nothing counted is
   * left without its way to the task and the parent. */
  progs[n++] = self->skel->progs.on_task_exit;
  if (self->deferred)
    progs[n++] = self->skel->progs.on_switch;
  progs[n++] =
      self->deferred ? self->skel->progs.on_sys_enter : self->skel->progs.on_sys_enter_direct;
  for (guint i = 0; i < n; i++) {
    self->hook_links[i] = bpf_program__attach(progs[i]);
    if (self->hook_links[i] == NULL) {
      int err = errno;
      detach_hooks(self);
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED, "Attaching %s failed: %s",
                  bpf_program__name(progs[i]), g_strerror(err));
      return FALSE;
    }
  }
  self->counting = TRUE;
  return TRUE;
}

static void
bpf_free(StBackend *backend)
{
  StBackendBpf *self = (StBackendBpf *)backend;
  detach_hooks(self);
  g_clear_pointer(&self->iter_link, bpf_link__destroy);
  g_clear_pointer(&self->skel, collector_bpf__destroy);
  g_clear_pointer(&self->buf, g_byte_array_unref);
  g_clear_pointer(&self->by_tgid, g_hash_table_unref);
  g_free(self);
}

static gboolean
fail(GError **error, int err, const char *step)
{
  g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED, "%s: %s (%s)", step,
              explain_errno(err), g_strerror(err));
  return FALSE;
}

static gboolean
bpf_setup(StBackendBpf *self, GError **error)
{
  gboolean old_layout, deferred;
  int err;

  if (!g_file_test("/sys/kernel/btf/vmlinux", G_FILE_TEST_EXISTS)) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The kernel has no BTF type information (/sys/kernel/btf/vmlinux); "
                "it must be built with CONFIG_DEBUG_INFO_BTF=y");
    return FALSE;
  }
  if (!inspect_kernel(&old_layout, &deferred, error))
    return FALSE;

  self->skel = collector_bpf__open();
  if (self->skel == NULL)
    return fail(error, errno, "Opening the BPF object failed");
  bpf_program__set_autoload(self->skel->progs.iter_tasks_atomic, old_layout);
  bpf_program__set_autoload(self->skel->progs.iter_tasks_pcpu, !old_layout);
  bpf_program__set_autoload(self->skel->progs.on_sys_enter, deferred);
  bpf_program__set_autoload(self->skel->progs.on_switch, deferred);
  bpf_program__set_autoload(self->skel->progs.on_sys_enter_direct, !deferred);
  self->skel->rodata->deferred = deferred;

  err = collector_bpf__load(self->skel);
  if (err != 0)
    return fail(error, -err, "Loading the BPF programs failed");
  self->deferred = deferred;
  /* The counting hooks are attached on demand (bpf_set_counting); try
   * once now, so that a kernel that refuses them is known at start. */
  if (!bpf_set_counting(&self->parent, TRUE, NULL))
    return fail(error, errno != 0 ? errno : EPERM, "Attaching the BPF programs failed");

  self->iter_link = bpf_program__attach_iter(
      old_layout ? self->skel->progs.iter_tasks_atomic : self->skel->progs.iter_tasks_pcpu, NULL);
  if (self->iter_link == NULL)
    return fail(error, errno, "Attaching the task iterator failed");
  g_debug("BPF backend ready (%s RSS counters, syscalls counted %s)",
          old_layout ? "atomic, before Linux 6.2" : "percpu, Linux 6.2+",
          deferred ? "per CPU, moved to tasks at context switch" : "per task");
  return TRUE;
}

StBackend *
st_backend_bpf_new(GError **error)
{
  StBackendBpf *self;

  /* Lets tests exercise the fallback where BPF would work. */
  if (g_strcmp0(g_getenv("SMOOTHTASK_TEST_BPF_FAIL"), "1") == 0) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "BPF refused on purpose (SMOOTHTASK_TEST_BPF_FAIL=1)");
    return NULL;
  }
  libbpf_set_print(libbpf_to_glib);
  self = g_new0(StBackendBpf, 1);
  self->parent.name = "bpf";
  self->parent.read = bpf_read;
  self->parent.set_counting = bpf_set_counting;
  self->parent.free = bpf_free;
  self->n_cpus = libbpf_num_possible_cpus();
  self->page_size = (guint64)sysconf(_SC_PAGESIZE);
  self->buf = g_byte_array_new();
  self->by_tgid = g_hash_table_new(NULL, NULL);
  if (self->n_cpus <= 0 || !bpf_setup(self, error)) {
    if (self->n_cpus <= 0 && error != NULL && *error == NULL)
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                  "Cannot count the possible CPUs");
    bpf_free(&self->parent);
    return NULL;
  }
  return &self->parent;
}

#else /* !HAVE_BPF */

StBackend *
st_backend_bpf_new(GError **error)
{
  g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
              "SmoothTask was built without BPF support (-Dbpf=disabled)");
  return NULL;
}

#endif
