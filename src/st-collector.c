/* st-collector.c: backend selection, system figures and rates. */
#define G_LOG_DOMAIN "smoothtask-collector"
#include "st-collector.h"
#include "st-accounting.h"
#include "st-procfs-parse.h"
#include "st-names.h"
#include "st-cgroup.h"

#include <gio/gdesktopappinfo.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The /proc files every sample reads, in this order. */
enum {
  KEPT_STAT,
  KEPT_MEMINFO,
  KEPT_PRESSURE_CPU,
  KEPT_PRESSURE_MEMORY,
  KEPT_PRESSURE_IO,
  KEPT_DISKSTATS,
  KEPT_NET_DEV,
  KEPT_VMSTAT,
  KEPT_N
};
static const char *const kept_paths[KEPT_N] = {
    "stat",        "meminfo",   "pressure/cpu", "pressure/memory",
    "pressure/io", "diskstats", "net/dev",      "vmstat",
};

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
  StCpuTimes prev_cpu;
  StVmStat prev_vm;
  /* The last sample that read the processes. */
  gboolean have_prev_procs;
  guint64 procs_ns;
  guint64 prev_syscalls;
  gboolean prev_has_syscalls;
  StAccounts *accounts;
  GHashTable *apps; /* application id -> AppInfo: the .desktop lookups */
  guint64 now_ns;   /* of the sample being taken */
  GArray *raw;      /* scratch, of StRawProcess */
  GByteArray *text; /* scratch for /proc/stat, which grows with the CPUs */
  gdouble clk_tck;  /* USER_HZ: the unit of /proc/stat */
  guint64 page_size;
  /* The /proc files read every sample, kept open (see read_kept()). */
  int kept[KEPT_N];
  StIoTotals prev_io;
  gboolean prev_has_io;
  GHashTable *whole_disks; /* device name -> whole disk or not, asked once */
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
  for (guint i = 0; i < KEPT_N; i++)
    self->kept[i] = -1;
  self->accounts = st_accounts_new();
  self->apps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, app_info_free);
  self->raw = g_array_new(FALSE, FALSE, sizeof(StRawProcess));
  self->text = g_byte_array_new();
  self->whole_disks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? (gdouble)sysconf(_SC_CLK_TCK) : 100.0;
  self->page_size = sysconf(_SC_PAGESIZE) > 0 ? (guint64)sysconf(_SC_PAGESIZE) : 4096;
  self->prev_vm = (StVmStat){G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64};
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

/* One of the files every sample reads, into self->text: opened once and
 * read again from its start (a path lookup, an open and a close less per
 * file and sample). A failed read closes it; the next sample opens it
 * again. */
static gssize
read_kept(StCollector *self, guint which)
{
  gssize n;

  if (self->kept[which] < 0)
    self->kept[which] = openat(self->proc_fd, kept_paths[which], O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (self->kept[which] < 0)
    return -1;
  n = st_reread_file(self->kept[which], self->text);
  if (n < 0) {
    close(self->kept[which]);
    self->kept[which] = -1;
  }
  return n;
}

static gboolean
read_system(StCollector *self, StCpuTimes *cpu, StMemInfo *mem, GError **error)
{
  gssize n;

  /* Not a fixed buffer: each CPU adds a line, and the interrupt line grows
   * with CPUs and devices (a 384-CPU machine overflows 16 KiB). */
  n = read_kept(self, KEPT_STAT);
  if (n < 0 || !st_parse_cpu_times((const char *)self->text->data, (gsize)n, cpu, error)) {
    if (n < 0)
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED, "Cannot read %s/stat",
                  self->proc_root);
    return FALSE;
  }
  n = read_kept(self, KEPT_MEMINFO);
  if (n < 0 || !st_parse_meminfo((const char *)self->text->data, (gsize)n, mem, error)) {
    if (n < 0)
      g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED, "Cannot read %s/meminfo",
                  self->proc_root);
    return FALSE;
  }
  return TRUE;
}

/* A device of /proc/diskstats that is a disk of its own: listed in
 * /sys/block (partitions are not), and not one stacked on or standing in
 * for others (device-mapper, md, loop, RAM, zram). */
static gboolean
is_whole_disk(const char *name, gpointer data)
{
  StCollector *self = data;
  const char *skip[] = {"loop", "ram", "zram", "dm-", "md"};
  gpointer known;

  if (g_hash_table_lookup_extended(self->whole_disks, name, NULL, &known))
    return GPOINTER_TO_INT(known);
  for (guint i = 0; i < G_N_ELEMENTS(skip); i++) {
    if (g_str_has_prefix(name, skip[i])) {
      g_hash_table_insert(self->whole_disks, g_strdup(name), GINT_TO_POINTER(FALSE));
      return FALSE;
    }
  }
  {
    g_autofree char *path = g_build_filename("/sys/block", name, NULL);
    gboolean whole = g_file_test(path, G_FILE_TEST_EXISTS);
    g_hash_table_insert(self->whole_disks, g_strdup(name), GINT_TO_POINTER(whole));
    return whole;
  }
}

static gboolean
read_io_totals(StCollector *self, StIoTotals *io)
{
  gssize n;

  memset(io, 0, sizeof(*io));
  n = read_kept(self, KEPT_DISKSTATS);
  if (n < 0 ||
      !st_parse_diskstats((const char *)self->text->data, (gsize)n, is_whole_disk, self, io, NULL))
    return FALSE;
  n = read_kept(self, KEPT_NET_DEV);
  return n >= 0 && st_parse_net_dev((const char *)self->text->data, (gsize)n, io, NULL);
}

static gdouble
per_s(guint64 prev, guint64 cur, gdouble secs)
{
  return cur >= prev ? (gdouble)(cur - prev) / secs : NAN;
}

static void
read_pressure(StCollector *self, StSnapshot *snap)
{
  gdouble some[3] = {NAN, NAN, NAN}, full[3] = {NAN, NAN, NAN};

  for (guint i = 0; i < 3; i++) {
    gssize n = read_kept(self, KEPT_PRESSURE_CPU + i);
    if (n > 0)
      st_parse_pressure((const char *)self->text->data, (gsize)n, &some[i], &full[i], NULL);
  }
  snap->pressure_cpu_some = some[0];
  snap->pressure_memory_some = some[1];
  snap->pressure_io_full = full[2];
}

/* Block-layer and page-cache counters: a bound on what any one program
 * can be charged for, see StSnapshot. */
static void
block_rates(StCollector *self, const StVmStat *vm, StSnapshot *snap)
{
  gboolean known = vm->pgpgin_kib != G_MAXUINT64 && vm->pgpgout_kib != G_MAXUINT64 &&
                   vm->nr_dirtied != G_MAXUINT64 && self->prev_vm.pgpgin_kib != G_MAXUINT64 &&
                   self->prev_vm.pgpgout_kib != G_MAXUINT64 &&
                   self->prev_vm.nr_dirtied != G_MAXUINT64;

  snap->block_read_per_s = snap->block_write_per_s = NAN;
  if (!known || !(snap->interval_s > 0))
    return;
  snap->block_read_per_s = per_s(self->prev_vm.pgpgin_kib, vm->pgpgin_kib, snap->interval_s) * 1024;
  snap->block_write_per_s =
      per_s(self->prev_vm.pgpgout_kib, vm->pgpgout_kib, snap->interval_s) * 1024 +
      per_s(self->prev_vm.nr_dirtied, vm->nr_dirtied, snap->interval_s) * (gdouble)self->page_size;
}

static void
system_cpu(StCollector *self, const StCpuTimes *cpu, gboolean rates, StSnapshot *snap)
{
  if (!rates ||
      !st_cpu_times_delta(&self->prev_cpu, cpu, &snap->cpu_busy_percent, &snap->cpu_user_percent,
                          &snap->cpu_system_percent, &snap->cpu_idle_percent)) {
    snap->cpu_busy_percent = snap->cpu_user_percent = NAN;
    snap->cpu_system_percent = snap->cpu_idle_percent = NAN;
  } else if (cpu->n_cpus == self->prev_cpu.n_cpus) {
    /* User and system time are sampled at each tick: a program that runs
     * between ticks is missed or over-counted, seconds apart from the exact
     * runtime the processes show. Idle time is measured, not sampled, on
     * tickless kernels: busy is the wall time the CPUs were not idle. */
    gdouble not_busy =
        (gdouble)((cpu->idle + cpu->iowait + cpu->steal) -
                  MIN(self->prev_cpu.idle + self->prev_cpu.iowait + self->prev_cpu.steal,
                      cpu->idle + cpu->iowait + cpu->steal)) /
        self->clk_tck;
    gdouble busy = 100.0 * (1.0 - not_busy / (snap->interval_s * snap->n_cpus));
    snap->cpu_busy_percent = CLAMP(busy, 0.0, 100.0);
    snap->cpu_idle_percent = 100.0 - snap->cpu_busy_percent;
  }
}

gboolean
st_collector_sample_system(StCollector *self, guint64 now_ns, StSnapshot *snap, GError **error)
{
  StCpuTimes cpu;
  StMemInfo mem;
  StIoTotals io;
  StVmStat vm;
  gboolean rates, has_io;
  gssize n;

  g_return_val_if_fail(self->backend != NULL, FALSE);

  if (!read_system(self, &cpu, &mem, error))
    return FALSE;
  /* A clock that did not move gives no rate; the monotonic clock never goes
   * backwards, but a caller's fake clock might. */
  self->interval_start_ns = self->have_prev && now_ns > self->prev_ns ? self->prev_ns : 0;
  rates = self->interval_start_ns > 0;

  snap->timestamp_ns = now_ns;
  snap->interval_s = rates ? (gdouble)(now_ns - self->prev_ns) / 1e9 : 0;
  snap->backend = self->backend->name;
  snap->n_cpus = cpu.n_cpus > 0 ? cpu.n_cpus : 1;
  snap->mem_total_bytes = mem.total_bytes;
  snap->mem_available_bytes = mem.available_bytes;
  snap->mem_used_bytes = mem.total_bytes - mem.available_bytes;
  snap->swap_total_bytes = mem.swap_total_bytes;
  snap->swap_used_bytes = mem.swap_total_bytes - mem.swap_free_bytes;
  snap->resident_bound_bytes = mem.resident_bound_bytes;
  system_cpu(self, &cpu, rates, snap);
  read_pressure(self, snap);
  n = read_kept(self, KEPT_VMSTAT);
  if (n < 0 || !st_parse_vmstat((const char *)self->text->data, (gsize)n, &vm, NULL))
    vm = (StVmStat){G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64};
  snap->oom_kills = vm.oom_kills;
  block_rates(self, &vm, snap);
  has_io = read_io_totals(self, &io);
  if (rates && has_io && self->prev_has_io) {
    snap->disk_read_per_s =
        per_s(self->prev_io.disk_read_bytes, io.disk_read_bytes, snap->interval_s);
    snap->disk_write_per_s =
        per_s(self->prev_io.disk_write_bytes, io.disk_write_bytes, snap->interval_s);
    snap->net_receive_per_s = per_s(self->prev_io.net_rx_bytes, io.net_rx_bytes, snap->interval_s);
    snap->net_send_per_s = per_s(self->prev_io.net_tx_bytes, io.net_tx_bytes, snap->interval_s);
    snap->loopback_per_s = per_s(self->prev_io.loop_bytes, io.loop_bytes, snap->interval_s);
  } else {
    snap->disk_read_per_s = snap->disk_write_per_s = NAN;
    snap->net_receive_per_s = snap->net_send_per_s = snap->loopback_per_s = NAN;
  }
  /* Counted by the hooks, read with the processes: unknown until then. */
  snap->syscalls_per_s = NAN;
  snap->unattributed_cpu_percent = NAN;
  snap->processes_fresh = FALSE;

  self->have_prev = TRUE;
  self->prev_ns = now_ns;
  self->prev_cpu = cpu;
  self->prev_io = io;
  self->prev_has_io = has_io;
  self->prev_vm = vm;
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
   * longer than the system's interval after samples that did not read them. */
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
  for (guint i = 0; i < KEPT_N; i++)
    if (self->kept[i] >= 0)
      close(self->kept[i]);
  st_accounts_free(self->accounts);
  g_hash_table_unref(self->apps);
  g_array_unref(self->raw);
  g_byte_array_unref(self->text);
  g_hash_table_unref(self->whole_disks);
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
