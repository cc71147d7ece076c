/* st-backend-bpf.c: the eBPF backend.
 *
 * One task-iterator read per sample gives every thread's exact CPU time
 * (se.sum_exec_runtime, not tick-sampled utime/stime), its group's RSS and
 * its syscall count from task-local storage; user space folds threads into
 * processes. The programs come as descriptors (st-bpf-set.h): handed over
 * by smoothtask-loader, or loaded here when the agent runs as root.
 */
#define G_LOG_DOMAIN "smoothtask-bpf"

#include "config.h"

#include "st-backend.h"
#include "st-bpf-set.h"
#include "st-task-records.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <unistd.h>

/* What smoothtask-loader handed to this process, claimed once at start
 * (st_backend_bpf_claim_handoff) and taken by the first BPF backend. The
 * descriptors are the process's, not a backend's: this is the one piece of
 * state outside the app object, as the descriptors themselves are. */
static StBpfSet handed = {-1, -1, {-1, -1, -1}, {-1, -1}, FALSE, FALSE, -1, 0};
static char *handed_refusal;
static guint64 handed_keep;
static gboolean handed_over;

#ifdef HAVE_BPF

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"

typedef struct {
  StBackend parent;
  StBpfSet set;
  /* The counting hooks' links, attached only while syscalls are counted. */
  int hook_links[ST_BPF_MAX_HOOKS];
  gboolean counting;
  int net_links[2]; /* the network hooks' links while they count */
  gboolean net_counting;
  int n_cpus;
  guint64 page_size;
  GByteArray *buf;
  GHashTable *by_tgid; /* tgid -> index in the output array, reused per read */
} StBackendBpf;

static gboolean
bpf_read(StBackend *backend, StRawSample *out, GError **error)
{
  StBackendBpf *self = (StBackendBpf *)backend;
  g_autofree struct st_cpu_counts *percpu = g_new0(struct st_cpu_counts, self->n_cpus);
  guint32 zero = 0;
  int fd;

  fd = bpf_iter_create(self->set.iter_link);
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
  out->has_net = self->net_counting;
  out->syscalls_total = 0;
  if (bpf_map_lookup_elem(self->set.counts, &zero, percpu) == 0) {
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
  for (guint i = 0; i < ST_BPF_MAX_HOOKS; i++) {
    if (self->hook_links[i] >= 0)
      close(self->hook_links[i]);
    self->hook_links[i] = -1;
  }
  self->counting = FALSE;
}

static gboolean
bpf_set_counting(StBackend *backend, gboolean on, GError **error)
{
  StBackendBpf *self = (StBackendBpf *)backend;

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
    if (bpf_map_lookup_elem(self->set.counts, &zero, percpu) == 0) {
      for (int i = 0; i < self->n_cpus; i++)
        percpu[i].pending = 0;
      bpf_map_update_elem(self->set.counts, &zero, percpu, BPF_ANY);
    }
  }
  /* In the set's order: the exit hook first, the syscall hook last. A
   * tp_btf program attaches by descriptor, with no capability on 5.19+. */
  for (guint i = 0; i < ST_BPF_MAX_HOOKS && self->set.hooks[i] >= 0; i++) {
    self->hook_links[i] = bpf_raw_tracepoint_open(NULL, self->set.hooks[i]);
    if (self->hook_links[i] < 0) {
      int err = errno;
      self->hook_links[i] = -1;
      detach_hooks(self);
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED,
                  "Attaching counting hook %u failed: %s", i, g_strerror(err));
      errno = err;
      return FALSE;
    }
  }
  self->counting = TRUE;
  return TRUE;
}

static void
detach_net(StBackendBpf *self)
{
  for (guint i = 0; i < 2; i++) {
    if (self->net_links[i] >= 0)
      close(self->net_links[i]);
    self->net_links[i] = -1;
  }
  self->net_counting = FALSE;
}

static gboolean
bpf_set_net_counting(StBackend *backend, gboolean on, GError **error)
{
  StBackendBpf *self = (StBackendBpf *)backend;

  if (on == self->net_counting)
    return TRUE;
  detach_net(self);
  if (!on)
    return TRUE;
  for (guint i = 0; i < 2; i++) {
    self->net_links[i] = bpf_raw_tracepoint_open(NULL, self->set.net[i]);
    if (self->net_links[i] < 0) {
      int err = errno;
      self->net_links[i] = -1;
      detach_net(self);
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED,
                  "Attaching network hook %u failed: %s", i, g_strerror(err));
      return FALSE;
    }
  }
  self->net_counting = TRUE;
  return TRUE;
}

static void
bpf_free(StBackend *backend)
{
  StBackendBpf *self = (StBackendBpf *)backend;
  detach_hooks(self);
  detach_net(self);
  st_bpf_set_close(&self->set);
  g_clear_pointer(&self->buf, g_byte_array_unref);
  g_clear_pointer(&self->by_tgid, g_hash_table_unref);
  g_free(self);
}

static gboolean
bpf_setup(StBackendBpf *self, GError **error)
{
  if (handed.iter_link >= 0) {
    self->set = handed;
    st_bpf_set_init(&handed);
  } else if (handed_refusal != NULL) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED, "%s", handed_refusal);
    return FALSE;
  } else if (!st_bpf_set_load(&self->set, TRUE, error)) {
    return FALSE;
  }
  /* The counting hooks are attached on demand (bpf_set_counting); try
   * once now, so that a kernel that refuses them is known at start. */
  if (!bpf_set_counting(&self->parent, TRUE, NULL)) {
    int err = errno != 0 ? errno : EPERM;
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "Attaching the BPF programs failed: %s (%s)", st_bpf_explain_errno(err),
                g_strerror(err));
    return FALSE;
  }
  if (self->set.net[0] >= 0)
    self->parent.set_net_counting = bpf_set_net_counting;
  g_debug("BPF backend ready (%s RSS counters, syscalls counted %s, %s)%s",
          self->set.old_rss ? "atomic, before Linux 6.2" : "percpu, Linux 6.2+",
          self->set.deferred ? "per CPU, moved to tasks at context switch" : "per task",
          self->set.net[0] >= 0 ? "network per process on demand"
                                : "no network per process (Linux 6.3 tracepoints missing)",
          self->set.lock >= 0 ? ", loaded by smoothtask-loader" : "");
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
  self = g_new0(StBackendBpf, 1);
  st_bpf_set_init(&self->set);
  for (guint i = 0; i < ST_BPF_MAX_HOOKS; i++)
    self->hook_links[i] = -1;
  self->net_links[0] = self->net_links[1] = -1;
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

void
st_backend_bpf_claim_handoff(void)
{
  const char *text = g_getenv(ST_BPF_ENV);
  g_autoptr(GError) error = NULL;
  StBpfSet set;
  int *fds[ST_BPF_N_FDS];
  const char *kinds[ST_BPF_N_FDS];

  if (text == NULL)
    return;
  handed_over = TRUE;
  if (g_str_has_prefix(text, "refused ")) {
    handed_refusal = g_strdup(text + strlen("refused "));
  } else if (!st_bpf_set_parse(text, &set, &error)) {
    g_warning("%s", error->message);
  } else {
    st_bpf_set_slots(&set, fds, kinds);
    /* Only what the loader handed, checked, and never passed on to what
     * the agent starts. */
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
      if (*fds[i] < 0)
        continue;
      if ((kinds[i] != NULL && !st_bpf_fd_is(*fds[i], kinds[i])) ||
          fcntl(*fds[i], F_SETFD, FD_CLOEXEC) < 0) {
        g_warning("Descriptor %d handed by smoothtask-loader is not what it should be; "
                  "not using BPF",
                  *fds[i]);
        handed_refusal = g_strdup("smoothtask-loader handed descriptors that do not check");
        /* Closed all the same: the lock among them must not stay held. */
        st_bpf_set_close(&set);
        break;
      }
    }
    handed = set;
    handed_keep = set.keep;
    /* The descriptors show every user's tasks: not to be taken from this
     * process by its user through ptrace (/proc shows them no more). */
    if (set.iter_link >= 0)
      (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  g_unsetenv(ST_BPF_ENV);
}

guint64
st_backend_bpf_kept_privileges(void)
{
  return handed_keep;
}

char *
st_backend_bpf_describe_handoff(void)
{
  if (!handed_over)
    return NULL;
  if (handed_refusal != NULL)
    return g_strdup_printf("ran, did not hand over the programs: %s", handed_refusal);
  if (handed_keep != 0)
    return g_strdup_printf("loaded the programs; this kernel needs the agent to keep "
                           "capability mask 0x%" G_GINT64_MODIFIER "x to use them",
                           handed_keep);
  return g_strdup("loaded the programs and handed them over; the agent holds no capability");
}
