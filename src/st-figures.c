/* st-figures.c: the figure each metric compares, and the bounds the
 * system's figures put on every program's (see the header). */
#define G_LOG_DOMAIN "smoothtask-figures"
#include "st-figures.h"

/* A system figure this close to its threshold needs the processes: the
 * alert it may raise names the top programs, from a fresh table. */
#define NEAR_SYSTEM 0.8
/* A level (memory) bound is exact; a rate bound is met with half the
 * threshold: the first table read after calm averages the program's rate
 * over a longer interval, and a program just started must not slip under. */
#define NEAR_LEVEL 0.8
#define NEAR_RATE  0.5

gboolean
st_metric_enabled(const StEngineConfig *c, StMetric metric)
{
  if (!c->enabled || metric >= ST_N_METRICS || !(c->threshold[metric] > 0))
    return FALSE;
  if (metric == ST_METRIC_PRESSURE_IO)
    return TRUE;
  switch (st_metric_per_process(metric)) {
    case ST_METRIC_PROCESS_CPU:
      return c->cpu_enabled;
    case ST_METRIC_PROCESS_MEMORY:
      return c->memory_enabled;
    case ST_METRIC_PROCESS_SYSCALLS:
      return c->syscalls_enabled;
    case ST_METRIC_PROCESS_DISK_READ:
    case ST_METRIC_PROCESS_DISK_WRITE:
    case ST_METRIC_PROCESS_NETWORK:
      return TRUE;
    default:
      return FALSE;
  }
}

gdouble
st_figure_system(StMetric metric, const StSnapshot *snap)
{
  switch (metric) {
    case ST_METRIC_CPU:
      return snap->cpu_busy_percent;
    case ST_METRIC_MEMORY:
      return st_snapshot_mem_used_percent(snap);
    case ST_METRIC_SYSCALLS:
      return snap->syscalls_per_s;
    case ST_METRIC_PRESSURE_CPU:
      return snap->pressure_cpu_some;
    case ST_METRIC_PRESSURE_MEMORY:
      /* A PSI trigger fired: at least a threshold's worth of stall in the
       * last second, whatever the 10 s average says yet. */
      if (snap->memory_stall_triggered && st_value_available(snap->pressure_memory_some))
        return MAX(snap->pressure_memory_some, 100.0);
      return snap->pressure_memory_some;
    case ST_METRIC_PRESSURE_IO:
      return snap->pressure_io_full;
    case ST_METRIC_DISK_READ:
      return snap->disk_read_per_s;
    case ST_METRIC_DISK_WRITE:
      return snap->disk_write_per_s;
    case ST_METRIC_NETWORK:
      return snap->net_receive_per_s + snap->net_send_per_s; /* NAN if either is */
    default:
      return NAN;
  }
}

gdouble
st_figure_process(StMetric metric, const StSnapshot *snap, const StProcess *proc)
{
  switch (st_metric_per_process(metric)) {
    case ST_METRIC_PROCESS_CPU:
      return proc->cpu_percent;
    case ST_METRIC_PROCESS_MEMORY:
      if (snap->mem_total_bytes == 0)
        return NAN;
      return 100.0 * (gdouble)proc->rss_bytes / (gdouble)snap->mem_total_bytes;
    case ST_METRIC_PROCESS_SYSCALLS:
      return proc->syscalls_per_s;
    case ST_METRIC_PROCESS_DISK_READ:
      return proc->disk_read_per_s;
    case ST_METRIC_PROCESS_DISK_WRITE:
      return proc->disk_write_per_s;
    case ST_METRIC_PROCESS_NETWORK:
      return proc->net_per_s;
    default:
      return NAN;
  }
}

gdouble
st_figure_app(StMetric metric, const StSnapshot *snap, const StAppGroup *app)
{
  switch (metric) {
    case ST_METRIC_APP_CPU:
      return app->cpu_percent;
    case ST_METRIC_APP_MEMORY:
      if (snap->mem_total_bytes == 0)
        return NAN;
      return 100.0 * (gdouble)app->rss_bytes / (gdouble)snap->mem_total_bytes;
    case ST_METRIC_APP_DISK_READ:
      return app->disk_read_per_s;
    case ST_METRIC_APP_DISK_WRITE:
      return app->disk_write_per_s;
    case ST_METRIC_APP_NETWORK:
      return app->net_per_s;
    default:
      return app->syscalls_per_s;
  }
}

/* The lowest threshold of a per-program resource (a process or an
 * application of processes), or INFINITY when neither alerts. */
static gdouble
lowest(const StEngineConfig *c, StMetric process, StMetric app)
{
  gdouble t = INFINITY;

  if (st_metric_enabled(c, process))
    t = c->threshold[process];
  if (st_metric_enabled(c, app))
    t = MIN(t, c->threshold[app]);
  return t;
}

/* bound >= fraction x threshold, an unknown bound counting as reached. */
static gboolean
within_reach(gdouble bound, gdouble threshold, gdouble fraction)
{
  if (isinf(threshold))
    return FALSE;
  return !st_value_available(bound) || bound >= fraction * threshold;
}

gboolean
st_figures_need_processes(const StEngineConfig *c, const StSnapshot *snap, const char **why)
{
  const char *unused;
  gdouble mem_total = (gdouble)snap->mem_total_bytes;
  gdouble resident = snap->resident_bound_bytes == G_MAXUINT64 || mem_total <= 0
                         ? NAN
                         : 100.0 * (gdouble)snap->resident_bound_bytes / mem_total;

  if (why == NULL)
    why = &unused;
  *why = NULL;
  if (!c->enabled)
    return FALSE;
  for (StMetric m = ST_METRIC_CPU; m <= ST_METRIC_NETWORK; m++) {
    gdouble v = st_figure_system(m, snap);
    if (st_metric_enabled(c, m) && st_value_available(v) && v >= NEAR_SYSTEM * c->threshold[m]) {
      *why = "a figure of the system is near its threshold";
      return TRUE;
    }
  }
  if (c->memory_critical > 0 &&
      st_snapshot_mem_used_percent(snap) >= NEAR_SYSTEM * c->memory_critical) {
    *why = "memory in use is near the critical threshold";
    return TRUE;
  }
  /* Percent of one CPU: what all programs together used. */
  if (within_reach(snap->cpu_busy_percent * snap->n_cpus,
                   lowest(c, ST_METRIC_PROCESS_CPU, ST_METRIC_APP_CPU), NEAR_RATE)) {
    *why = "the CPUs were busy enough for one program to near its threshold";
    return TRUE;
  }
  if (within_reach(resident, lowest(c, ST_METRIC_PROCESS_MEMORY, ST_METRIC_PROCESS_MEMORY),
                   NEAR_LEVEL)) {
    *why = "resident memory is large enough for one program to near its threshold";
    return TRUE;
  }
  /* Network filesystems (NFS, SMB, Ceph, 9p) charge a program's reads and
   * writes without the block layer: their bytes cross an interface. */
  if (within_reach(snap->block_read_per_s + snap->net_receive_per_s + snap->loopback_per_s,
                   lowest(c, ST_METRIC_PROCESS_DISK_READ, ST_METRIC_APP_DISK_READ), NEAR_RATE) ||
      within_reach(snap->block_write_per_s + snap->net_send_per_s + snap->loopback_per_s,
                   lowest(c, ST_METRIC_PROCESS_DISK_WRITE, ST_METRIC_APP_DISK_WRITE), NEAR_RATE)) {
    *why = "disk traffic is large enough for one program to near its threshold";
    return TRUE;
  }
  return FALSE;
}
