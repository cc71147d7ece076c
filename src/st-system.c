/* st-system.c: the machine's own figures, from a few /proc files kept open
 * (see the header). */
#define G_LOG_DOMAIN "smoothtask-system"
#include "st-system.h"
#include "st-backend.h"
#include "st-procfs-parse.h"

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

struct _StSystem {
  int proc_fd; /* borrowed */
  char *proc_root;
  /* The /proc files read every sample, kept open (see read_kept()). */
  int kept[KEPT_N];
  GByteArray *text; /* scratch for /proc/stat, which grows with the CPUs */
  gdouble clk_tck;  /* USER_HZ: the unit of /proc/stat */
  guint64 page_size;
  GHashTable *whole_disks; /* device name -> whole disk or not, asked once */

  gboolean have_prev;
  guint64 prev_ns;
  StCpuTimes prev_cpu;
  StIoTotals prev_io;
  gboolean prev_has_io;
  StVmStat prev_vm;
};

StSystem *
st_system_new(int proc_fd, const char *proc_root)
{
  StSystem *self = g_new0(StSystem, 1);

  self->proc_fd = proc_fd;
  self->proc_root = g_strdup(proc_root);
  for (guint i = 0; i < KEPT_N; i++)
    self->kept[i] = -1;
  self->text = g_byte_array_new();
  self->whole_disks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? (gdouble)sysconf(_SC_CLK_TCK) : 100.0;
  self->page_size = sysconf(_SC_PAGESIZE) > 0 ? (guint64)sysconf(_SC_PAGESIZE) : 4096;
  self->prev_vm = (StVmStat){G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64};
  return self;
}

void
st_system_free(StSystem *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < KEPT_N; i++)
    if (self->kept[i] >= 0)
      close(self->kept[i]);
  g_byte_array_unref(self->text);
  g_hash_table_unref(self->whole_disks);
  g_free(self->proc_root);
  g_free(self);
}

void
st_system_reset(StSystem *self)
{
  self->have_prev = FALSE;
}

/* One of the files every sample reads, into self->text: opened once and
 * read again from its start (a path lookup, an open and a close less per
 * file and sample). A failed read closes it; the next sample opens it
 * again. */
static gssize
read_kept(StSystem *self, guint which)
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
read_system(StSystem *self, StCpuTimes *cpu, StMemInfo *mem, GError **error)
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
  StSystem *self = data;
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
read_io_totals(StSystem *self, StIoTotals *io)
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
  /* G_MAXUINT64: a counter missing from its file, unknown. */
  if (prev == G_MAXUINT64 || cur == G_MAXUINT64 || cur < prev || !(secs > 0))
    return NAN;
  return (gdouble)(cur - prev) / secs;
}

static void
read_pressure(StSystem *self, StSnapshot *snap)
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
block_rates(StSystem *self, const StVmStat *vm, StSnapshot *snap)
{
  snap->block_read_per_s = per_s(self->prev_vm.pgpgin_kib, vm->pgpgin_kib, snap->interval_s) * 1024;
  snap->block_write_per_s =
      per_s(self->prev_vm.pgpgout_kib, vm->pgpgout_kib, snap->interval_s) * 1024 +
      per_s(self->prev_vm.nr_dirtied, vm->nr_dirtied, snap->interval_s) * (gdouble)self->page_size;
}

static void
system_cpu(StSystem *self, const StCpuTimes *cpu, gboolean rates, StSnapshot *snap)
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
st_system_sample(StSystem *self, guint64 now_ns, StSnapshot *snap, GError **error)
{
  StCpuTimes cpu;
  StMemInfo mem;
  StIoTotals io;
  StVmStat vm;
  gboolean rates, has_io;
  gssize n;

  if (!read_system(self, &cpu, &mem, error))
    return FALSE;
  /* A clock that did not move gives no rate; the monotonic clock never goes
   * backwards, but a caller's fake clock might. */
  rates = self->have_prev && now_ns > self->prev_ns;

  snap->timestamp_ns = now_ns;
  snap->interval_s = rates ? (gdouble)(now_ns - self->prev_ns) / 1e9 : 0;
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
  self->have_prev = TRUE;
  self->prev_ns = now_ns;
  self->prev_cpu = cpu;
  self->prev_io = io;
  self->prev_has_io = has_io;
  self->prev_vm = vm;
  return TRUE;
}

#define COST_CALLS 20000 /* getppid() calls a round: ~4 ms */

/* Kernel time of the cheapest syscall here, as a lower bound: half the
 * best wall time of getppid() (measured: 178 ns a call, 142 ns of it in the
 * kernel, on the development machine). */
gdouble
st_system_syscall_cost_ns(void)
{
  gdouble best = G_MAXDOUBLE;

  for (guint round = 0; round < 3; round++) {
    gint64 start = g_get_monotonic_time();
    for (guint i = 0; i < COST_CALLS; i++)
      (void)getppid();
    best = MIN(best, (gdouble)(g_get_monotonic_time() - start) * 1000.0 / COST_CALLS);
  }
  return MAX(best * 0.5, 10.0);
}
