/* st-collector.c: backend selection, system figures and rates. */
#define G_LOG_DOMAIN "smoothtask-collector"
#include "st-collector.h"
#include "st-accounting.h"
#include "st-procfs-parse.h"
#include "st-names.h"
#include "st-cgroup.h"
#include "st-system.h"

#include <gio/gdesktopappinfo.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct _StCollector {
  /* What /proc lets this user see of others (hidepid=): the BPF backend
   * sees every task and must show no more. */
  gboolean hide_others;
  uid_t uid;
  StBackendKind kind;
  StBackend *backend;
  char *fallback_reason;
  char *proc_root;
  int proc_fd;

  gboolean have_prev;
  guint64 prev_ns;
  guint64 interval_start_ns; /* of the sample being taken; 0: no rates */
  StSystem *system;
  /* The last sample that read the processes. */
  gboolean have_prev_procs;
  guint64 procs_ns;
  guint64 prev_syscalls;
  gboolean prev_has_syscalls;
  StAccounts *accounts;
  GHashTable *apps; /* application id -> AppInfo: the .desktop lookups */
  guint64 now_ns;   /* of the sample being taken */
  GArray *raw;      /* scratch, of StRawProcess */
};

static void app_info_free(gpointer p);
static gboolean proc_hides_others(const char *root);

GQuark
st_collector_error_quark(void)
{
  return g_quark_from_static_string("st-collector-error-quark");
}

gboolean
st_backend_kind_from_string(const char *s, StBackendKind *out)
{
  if (g_strcmp0(s, "auto") == 0)
    *out = ST_BACKEND_AUTO;
  else if (g_strcmp0(s, "bpf") == 0)
    *out = ST_BACKEND_BPF;
  else if (g_strcmp0(s, "proc") == 0)
    *out = ST_BACKEND_PROC;
  else
    return FALSE;
  return TRUE;
}

StCollector *
st_collector_new(StBackendKind kind)
{
  StCollector *self = g_new0(StCollector, 1);
  const char *root = g_getenv("SMOOTHTASK_PROC_ROOT");

  self->kind = kind;
  self->proc_root = g_strdup(root != NULL ? root : "/proc");
  self->proc_fd = -1;
  self->accounts = st_accounts_new();
  self->apps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, app_info_free);
  self->raw = g_array_new(FALSE, FALSE, sizeof(StRawProcess));
  return self;
}

gboolean
st_collector_init(StCollector *self, GError **error)
{
  g_autoptr(GError) bpf_error = NULL;

  if (self->backend != NULL)
    return TRUE;

  self->proc_fd = open(self->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  self->uid = geteuid();
  self->hide_others = self->uid != 0 && proc_hides_others(self->proc_root);
  if (self->proc_fd < 0) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED, "Cannot open %s",
                self->proc_root);
    return FALSE;
  }
  self->system = st_system_new(self->proc_fd, self->proc_root);
  if (self->kind != ST_BACKEND_PROC) {
    self->backend = st_backend_bpf_new(&bpf_error);
    if (self->backend == NULL && self->kind == ST_BACKEND_BPF) {
      g_propagate_error(error, g_steal_pointer(&bpf_error));
      goto fail;
    }
  }
  if (self->backend == NULL) {
    if (bpf_error != NULL)
      self->fallback_reason = g_strdup(bpf_error->message);
    self->backend = st_backend_proc_new(self->proc_root, error);
    if (self->backend == NULL)
      goto fail;
  }
  return TRUE;

fail:
  g_clear_pointer(&self->system, st_system_free);
  if (self->proc_fd >= 0)
    close(self->proc_fd);
  self->proc_fd = -1;
  return FALSE;
}

const char *
st_collector_get_backend_name(StCollector *self)
{
  return self->backend != NULL ? self->backend->name : "none";
}

const char *
st_collector_get_fallback_reason(StCollector *self)
{
  return self->fallback_reason;
}

void
st_collector_claim_handoff(void)
{
  st_backend_bpf_claim_handoff();
}

guint64
st_collector_kept_privileges(void)
{
  return st_backend_bpf_kept_privileges();
}

void
st_collector_reset(StCollector *self)
{
  self->have_prev = FALSE;
  self->have_prev_procs = FALSE;
  if (self->system != NULL)
    st_system_reset(self->system);
  st_accounts_reset(self->accounts);
}

static void
resolve_name(gint32 pid, const char *comm, char **display_name, char **exe, char **app_id,
             gpointer data)
{
  StCollector *self = data;
  char path[32], buf[4096];
  gssize n;

  if (display_name != NULL) {
    g_snprintf(path, sizeof(path), "%d/cmdline", pid);
    n = st_read_small_file(self->proc_fd, path, buf, sizeof(buf));
    *display_name = st_display_name(n > 0 ? buf : NULL, n > 0 ? (gsize)n : 0, comm);
  }
  if (exe != NULL) {
    /* What "Ignore" names: this program, not every process sharing a name.
     * Unreadable for other users' processes and kernel threads. */
    g_snprintf(path, sizeof(path), "%d/exe", pid);
    n = readlinkat(self->proc_fd, path, buf, sizeof(buf) - 1);
    *exe = n > 0 && buf[0] == '/' ? g_strndup(buf, (gsize)n) : NULL;
  }
  g_snprintf(path, sizeof(path), "%d/cgroup", pid);
  n = st_read_small_file(self->proc_fd, path, buf, sizeof(buf));
  *app_id = n > 0 ? st_app_id_from_cgroup(buf, (gsize)n) : NULL;
}

/* An application not seen for this long is forgotten: ids come and go
 * (every "systemd-run --user --unit app-x-<n>.scope" is one), and a .desktop
 * file read again after ten minutes is cheap. */
#define APP_FORGET_NS (G_GUINT64_CONSTANT(600) * 1000000000)
/* And never more than this many at once, whatever the churn. */
#define MAX_APPS 512

typedef struct {
  char *name;
  char *icon;
  guint64 seen_ns; /* the last sample it had processes in */
} AppInfo;

static void
app_info_free(gpointer p)
{
  AppInfo *a = p;
  g_free(a->name);
  g_free(a->icon);
  g_free(a);
}

/* Name and icon from the application's .desktop file, looked up once. */
static void
describe_app(const char *id, char **name, char **icon, gpointer data)
{
  StCollector *self = data;
  AppInfo *info = g_hash_table_lookup(self->apps, id);

  if (info == NULL) {
    g_autofree char *desktop_id = g_strconcat(id, ".desktop", NULL);
    g_autoptr(GDesktopAppInfo) app = g_desktop_app_info_new(desktop_id);
    info = g_new0(AppInfo, 1);
    if (app != NULL) {
      GIcon *gicon = g_app_info_get_icon(G_APP_INFO(app));
      info->name = g_strdup(g_app_info_get_name(G_APP_INFO(app)));
      if (gicon != NULL && G_IS_THEMED_ICON(gicon))
        info->icon = g_strdup(g_themed_icon_get_names(G_THEMED_ICON(gicon))[0]);
    }
    g_hash_table_insert(self->apps, g_strdup(id), info);
  }
  info->seen_ns = self->now_ns;
  *name = g_strdup(info->name);
  *icon = g_strdup(info->icon);
}

/* Forgets the descriptions of applications gone for a while, and, past
 * MAX_APPS, of every application not in this sample. */
static void
prune_apps(StCollector *self)
{
  guint size = g_hash_table_size(self->apps);
  GHashTableIter iter;
  gpointer v;

  g_hash_table_iter_init(&iter, self->apps);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    const AppInfo *info = v;
    if (info->seen_ns == self->now_ns)
      continue;
    if (size > MAX_APPS || info->seen_ns > self->now_ns ||
        self->now_ns - info->seen_ns >= APP_FORGET_NS)
      g_hash_table_iter_remove(&iter);
  }
}

guint
st_collector_get_n_cached_apps(StCollector *self)
{
  return g_hash_table_size(self->apps);
}

/* Is /proc (at root) mounted with hidepid=invisible or =ptraceable, or
 * the older 2? Then other users' processes are not there for this user. */
static gboolean
proc_hides_others(const char *root)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean hides = FALSE;

  if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l != NULL; l++) {
    g_auto(GStrv) f = g_strsplit(*l, " ", -1);
    guint n = g_strv_length(f);
    /* mount point is field 5; after " - ": fstype, source, super options */
    if (n < 10 || g_strcmp0(f[4], root) != 0 || g_strcmp0(f[n - 3], "proc") != 0)
      continue;
    /* The last mount on the point is the one on top, the one seen. */
    hides = strstr(f[n - 1], "hidepid=2") != NULL ||
            strstr(f[n - 1], "hidepid=invisible") != NULL ||
            strstr(f[n - 1], "hidepid=4") != NULL || strstr(f[n - 1], "hidepid=ptraceable") != NULL;
  }
  return hides;
}

/* A user is shown no more of other users' processes than /proc shows:
 * none at all under hidepid, and never their syscall rates (which /proc
 * never shows; they count in the system's total only). */
static void
show_what_proc_shows(StCollector *self, StSnapshot *snap)
{
  for (guint i = 0; i < snap->processes->len;) {
    StProcess *p = &g_array_index(snap->processes, StProcess, i);
    if (p->uid == self->uid) {
      i++;
      continue;
    }
    if (self->hide_others) {
      g_array_remove_index(snap->processes, i);
      continue;
    }
    p->syscalls_per_s = NAN;
    i++;
  }
}

gboolean
st_collector_sample_system(StCollector *self, guint64 now_ns, StSnapshot *snap, GError **error)
{
  g_return_val_if_fail(self->backend != NULL, FALSE);

  if (!st_system_sample(self->system, now_ns, snap, error))
    return FALSE;
  self->interval_start_ns = self->have_prev && now_ns > self->prev_ns ? self->prev_ns : 0;
  snap->backend = self->backend->name;
  /* Counted by the hooks, read with the processes: unknown until then. */
  snap->syscalls_per_s = NAN;
  snap->unattributed_cpu_percent = NAN;
  snap->processes_fresh = FALSE;
  self->have_prev = TRUE;
  self->prev_ns = now_ns;
  self->now_ns = now_ns;
  return TRUE;
}

gboolean
st_collector_sample_processes(StCollector *self, StSnapshot *snap, GError **error)
{
  StRawSample raw = {self->raw, FALSE, 0};
  guint64 now_ns = self->now_ns;
  guint64 interval_ns;
  gdouble secs;

  g_return_val_if_fail(self->backend != NULL && self->have_prev, FALSE);

  g_array_set_size(self->raw, 0);
  if (!self->backend->read(self->backend, &raw, error))
    return FALSE;
  /* Rates of processes cover the time since they were last read, which is
   * longer than the system's interval after samples that did not read them
   * (a process started since: its own life, see st_collector_fold()). */
  interval_ns = self->have_prev_procs && now_ns > self->procs_ns ? now_ns - self->procs_ns : 0;
  secs = (gdouble)interval_ns / 1e9;
  if (interval_ns > 0 && raw.has_syscalls && self->prev_has_syscalls &&
      raw.syscalls_total >= self->prev_syscalls)
    snap->syscalls_per_s = (gdouble)(raw.syscalls_total - self->prev_syscalls) / secs;

  st_collector_fold(self->accounts, self->have_prev_procs, &raw, interval_ns, resolve_name, self,
                    snap);
  if (self->uid != 0)
    show_what_proc_shows(self, snap);
  st_snapshot_group_apps(snap, describe_app, self);
  prune_apps(self);

  /* What the process table does not explain: time of processes that lived
   * and died between two samples, as percent of one CPU. Only when the
   * processes' interval is the system's. */
  if (interval_ns > 0 && self->procs_ns == self->interval_start_ns &&
      st_value_available(snap->cpu_busy_percent)) {
    gdouble listed = 0;
    for (guint i = 0; i < snap->processes->len; i++)
      listed += g_array_index(snap->processes, StProcess, i).cpu_percent;
    snap->unattributed_cpu_percent = MAX(0.0, snap->cpu_busy_percent * snap->n_cpus - listed);
  }
  snap->processes_fresh = TRUE;
  snap->processes_ns = now_ns;

  self->have_prev_procs = TRUE;
  self->procs_ns = now_ns;
  self->prev_syscalls = raw.syscalls_total;
  self->prev_has_syscalls = raw.has_syscalls;
  return TRUE;
}

gboolean
st_collector_sample(StCollector *self, guint64 now_ns, StSnapshot *snap, GError **error)
{
  return st_collector_sample_system(self, now_ns, snap, error) &&
         st_collector_sample_processes(self, snap, error);
}

gboolean
st_collector_can_count_syscalls(StCollector *self)
{
  return self->backend != NULL && self->backend->set_counting != NULL;
}

gboolean
st_collector_set_syscall_counting(StCollector *self, gboolean on, GError **error)
{
  if (!st_collector_can_count_syscalls(self)) {
    if (!on)
      return TRUE;
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The %s backend cannot count system calls", st_collector_get_backend_name(self));
    return FALSE;
  }
  return self->backend->set_counting(self->backend, on, error);
}

void
st_collector_free(StCollector *self)
{
  if (self == NULL)
    return;
  if (self->backend != NULL)
    self->backend->free(self->backend);
  if (self->proc_fd >= 0)
    close(self->proc_fd);
  self->proc_fd = -1;
  st_system_free(self->system);
  st_accounts_free(self->accounts);
  g_hash_table_unref(self->apps);
  g_array_unref(self->raw);
  g_free(self->fallback_reason);
  g_free(self->proc_root);
  g_free(self);
}

gboolean
st_collector_can_count_net(StCollector *self)
{
  return self->backend != NULL && self->backend->set_net_counting != NULL;
}

gboolean
st_collector_set_net_counting(StCollector *self, gboolean on, GError **error)
{
  if (!st_collector_can_count_net(self)) {
    if (!on)
      return TRUE;
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "The %s backend cannot count network bytes per process here",
                st_collector_get_backend_name(self));
    return FALSE;
  }
  return self->backend->set_net_counting(self->backend, on, error);
}
