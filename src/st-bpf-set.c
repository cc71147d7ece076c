/* st-bpf-set.c: loading the kernel programs, and handing them over. */
#define G_LOG_DOMAIN "smoothtask-bpf"

#include "config.h"

#include "st-bpf-set.h"
#include "st-backend.h"
#include "st-privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector.skel.h"
#endif

void
st_bpf_set_init(StBpfSet *set)
{
  memset(set, 0, sizeof(*set));
  set->iter_link = set->counts = set->lock = -1;
  for (guint i = 0; i < ST_BPF_MAX_HOOKS; i++)
    set->hooks[i] = -1;
  set->net[0] = set->net[1] = -1;
}

void
st_bpf_set_slots(StBpfSet *set, int *slots[ST_BPF_N_FDS], const char *kinds[ST_BPF_N_FDS])
{
  int *all[ST_BPF_N_FDS] = {&set->iter_link, &set->counts,   &set->lock,   &set->hooks[0],
                            &set->hooks[1],  &set->hooks[2], &set->net[0], &set->net[1]};
  const char *kind[ST_BPF_N_FDS] = {"link", "map", NULL, "prog", "prog", "prog", "prog", "prog"};
  for (guint i = 0; i < ST_BPF_N_FDS; i++) {
    slots[i] = all[i];
    if (kinds != NULL)
      kinds[i] = kind[i];
  }
}

void
st_bpf_set_close(StBpfSet *set)
{
  int *fds[ST_BPF_N_FDS];

  st_bpf_set_slots(set, fds, NULL);
  for (guint i = 0; i < ST_BPF_N_FDS; i++) {
    if (*fds[i] >= 0)
      close(*fds[i]);
  }
  st_bpf_set_init(set);
}

const char *
st_bpf_explain_errno(int err)
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
fail(GError **error, int err, const char *step)
{
  g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED, "%s: %s (%s)", step,
              st_bpf_explain_errno(err), g_strerror(err));
  return FALSE;
}

#ifdef HAVE_BPF

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
 * arm64 keep a task's CPU. Loading only the flavour that matches matters:
 * libbpf 1.1 without CAP_SYS_ADMIN fails a whole object when a relocation
 * names a type the kernel lacks. */
static gboolean
inspect_kernel(StBpfSet *set, gboolean test_switches, gboolean *has_net_out, GError **error)
{
  gboolean has_net;
  struct btf *btf = btf__load_vmlinux_btf();

  if (btf == NULL) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The kernel has no BTF type information (/sys/kernel/btf/vmlinux); "
                "it must be built with CONFIG_DEBUG_INFO_BTF=y");
    return FALSE;
  }
  set->old_rss = btf__find_by_name_kind(btf, "mm_rss_stat", BTF_KIND_STRUCT) >= 0;
#if defined(__x86_64__) || defined(__aarch64__)
  set->deferred = btf__find_by_name_kind(btf, "bpf_map_lookup_percpu_elem", BTF_KIND_FUNC) >= 0;
#else
  set->deferred = FALSE;
#endif
  /* sock_send_length / sock_recv_length: Linux 6.3. Without them the
   * programs must not be loaded at all (their attach target is missing). */
  has_net = btf__find_by_name_kind(btf, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) >= 0 &&
            btf__find_by_name_kind(btf, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) >= 0;
  btf__free(btf);
  if (test_switches) {
    /* Let tests cover the older kernels' schemes on this one. */
    if (g_strcmp0(g_getenv("SMOOTHTASK_TEST_BPF_DIRECT"), "1") == 0)
      set->deferred = FALSE;
    if (g_strcmp0(g_getenv("SMOOTHTASK_TEST_BPF_OLD_RSS"), "1") == 0)
      set->old_rss = TRUE;
  }
  *has_net_out = has_net;
  return TRUE;
}

/* The skeleton's descriptors close with it: the set keeps its own. */
static int
keep_fd(int fd)
{
  return fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
}

gboolean
st_bpf_set_load(StBpfSet *set, gboolean test_switches, GError **error)
{
  struct collector_bpf *skel;
  struct bpf_link *iter;
  struct bpf_program *hooks[ST_BPF_MAX_HOOKS] = {NULL};
  guint n = 0;
  gboolean has_net;
  int err;

  st_bpf_set_init(set);
  if (!g_file_test("/sys/kernel/btf/vmlinux", G_FILE_TEST_EXISTS)) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The kernel has no BTF type information (/sys/kernel/btf/vmlinux); "
                "it must be built with CONFIG_DEBUG_INFO_BTF=y");
    return FALSE;
  }
  libbpf_set_print(libbpf_to_glib);
  if (!inspect_kernel(set, test_switches, &has_net, error))
    return FALSE;
  skel = collector_bpf__open();
  if (skel == NULL)
    return fail(error, errno, "Opening the BPF object failed");
  bpf_program__set_autoload(skel->progs.iter_tasks_atomic, set->old_rss);
  bpf_program__set_autoload(skel->progs.iter_tasks_pcpu, !set->old_rss);
  bpf_program__set_autoload(skel->progs.on_sys_enter, set->deferred);
  bpf_program__set_autoload(skel->progs.on_switch, set->deferred);
  bpf_program__set_autoload(skel->progs.on_sys_enter_direct, !set->deferred);
  bpf_program__set_autoload(skel->progs.on_sock_send, has_net);
  bpf_program__set_autoload(skel->progs.on_sock_recv, has_net);
  skel->rodata->deferred = set->deferred;
  err = collector_bpf__load(skel);
  if (err != 0) {
    collector_bpf__destroy(skel);
    return fail(error, -err, "Loading the BPF programs failed");
  }
  iter = bpf_program__attach_iter(
      set->old_rss ? skel->progs.iter_tasks_atomic : skel->progs.iter_tasks_pcpu, NULL);
  if (iter == NULL) {
    err = errno;
    collector_bpf__destroy(skel);
    return fail(error, err, "Attaching the task iterator failed");
  }
  /* The exit hook first and the syscall hook last: nothing counted is
   * left without its way to the task and the parent. */
  hooks[n++] = skel->progs.on_task_exit;
  if (set->deferred)
    hooks[n++] = skel->progs.on_switch;
  hooks[n++] = set->deferred ? skel->progs.on_sys_enter : skel->progs.on_sys_enter_direct;
  set->iter_link = keep_fd(bpf_link__fd(iter));
  set->counts = keep_fd(bpf_map__fd(skel->maps.cpu_counts));
  for (guint i = 0; i < n; i++)
    set->hooks[i] = keep_fd(bpf_program__fd(hooks[i]));
  if (has_net) {
    set->net[0] = keep_fd(bpf_program__fd(skel->progs.on_sock_send));
    set->net[1] = keep_fd(bpf_program__fd(skel->progs.on_sock_recv));
  }
  err = errno;
  bpf_link__destroy(iter);
  collector_bpf__destroy(skel);
  if (set->iter_link < 0 || set->counts < 0 || set->hooks[n - 1] < 0 ||
      (has_net && set->net[1] < 0)) {
    st_bpf_set_close(set);
    return fail(error, err, "Keeping the BPF descriptors failed");
  }
  return TRUE;
}

#else /* !HAVE_BPF */

gboolean
st_bpf_set_load(StBpfSet *set, gboolean test_switches, GError **error)
{
  st_bpf_set_init(set);
  g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
              "SmoothTask was built without BPF support (-Dbpf=disabled)");
  return FALSE;
}

#endif

char *
st_bpf_set_to_string(const StBpfSet *set)
{
  return g_strdup_printf("v1 iter=%d counts=%d hooks=%d,%d,%d net=%d,%d deferred=%d old-rss=%d "
                         "lock=%d keep=%" G_GUINT64_FORMAT,
                         set->iter_link, set->counts, set->hooks[0], set->hooks[1], set->hooks[2],
                         set->net[0], set->net[1], set->deferred ? 1 : 0, set->old_rss ? 1 : 0,
                         set->lock, set->keep);
}

static gboolean
parse_int(const char *s, int min, int *out)
{
  guint64 v;
  gboolean neg = s[0] == '-';
  if (!g_ascii_string_to_unsigned(neg ? s + 1 : s, 10, 0, G_MAXINT, &v, NULL))
    return FALSE;
  *out = neg ? -(int)v : (int)v;
  return *out >= min;
}

gboolean
st_bpf_set_parse(const char *text, StBpfSet *set, GError **error)
{
  g_auto(GStrv) words = g_strsplit(text, " ", -1);
  guint seen = 0;

  st_bpf_set_init(set);
  if (words[0] == NULL || strcmp(words[0], "v1") != 0)
    goto bad;
  for (guint i = 1; words[i] != NULL; i++) {
    char *eq = strchr(words[i], '=');
    const char *v;
    if (eq == NULL)
      goto bad;
    *eq = '\0';
    v = eq + 1;
    if (strcmp(words[i], "iter") == 0 && parse_int(v, 3, &set->iter_link)) {
      seen |= 1;
    } else if (strcmp(words[i], "counts") == 0 && parse_int(v, 3, &set->counts)) {
      seen |= 2;
    } else if (strcmp(words[i], "hooks") == 0) {
      g_auto(GStrv) h = g_strsplit(v, ",", -1);
      if (g_strv_length(h) != ST_BPF_MAX_HOOKS)
        goto bad;
      for (guint k = 0; k < ST_BPF_MAX_HOOKS; k++) {
        if (!parse_int(h[k], -1, &set->hooks[k]) || (set->hooks[k] >= 0 && set->hooks[k] < 3))
          goto bad;
      }
      if (set->hooks[0] < 0)
        goto bad;
      seen |= 4;
    } else if (strcmp(words[i], "net") == 0) {
      g_auto(GStrv) h = g_strsplit(v, ",", -1);
      if (g_strv_length(h) != 2)
        goto bad;
      for (guint k = 0; k < 2; k++) {
        if (!parse_int(h[k], -1, &set->net[k]) || (set->net[k] >= 0 && set->net[k] < 3))
          goto bad;
      }
      if ((set->net[0] < 0) != (set->net[1] < 0))
        goto bad;
    } else if (strcmp(words[i], "deferred") == 0 && (!strcmp(v, "0") || !strcmp(v, "1"))) {
      set->deferred = v[0] == '1';
    } else if (strcmp(words[i], "old-rss") == 0 && (!strcmp(v, "0") || !strcmp(v, "1"))) {
      set->old_rss = v[0] == '1';
    } else if (strcmp(words[i], "lock") == 0 && parse_int(v, -1, &set->lock) &&
               (set->lock < 0 || set->lock >= 3)) {
    } else if (strcmp(words[i], "keep") == 0 &&
               g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &set->keep, NULL)) {
    } else {
      goto bad;
    }
  }
  if (seen == 7)
    return TRUE;
bad:
  st_bpf_set_init(set);
  g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED,
              "Not a hand-over of BPF descriptors: %s", text);
  return FALSE;
}

gboolean
st_bpf_fd_is(int fd, const char *kind)
{
  g_autofree char *path = g_strdup_printf("/proc/self/fdinfo/%d", fd);
  g_autofree char *info = NULL;
  g_autofree char *key = g_strdup_printf("\n%s_type:", kind);

  if (!g_file_get_contents(path, &info, NULL, NULL))
    return FALSE;
  return strstr(info, key) != NULL;
}

guint64
st_bpf_decide_privileges(StBpfProbe probe, gpointer data, int *failed)
{
  const guint64 bpf = G_GUINT64_CONSTANT(1) << CAP_BPF_BIT;
  const guint64 candidates[] = {0, bpf, bpf | (G_GUINT64_CONSTANT(1) << CAP_PERFMON_BIT)};

  *failed = 0;
  for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
    *failed = probe(candidates[i], data);
    if (*failed == 0)
      return candidates[i];
    if (*failed != EPERM && *failed != EACCES)
      break;
  }
  return ST_BPF_NO_WAY;
}
