/* test-figures.c: the bounds a sample's system figures put on every
 * program, and when they let the processes go unread. */
#include "st-figures.h"

#include <string.h>

#define MIB (1024.0 * 1024.0)

static StSnapshot *
calm_snapshot(void)
{
  StSnapshot *snap = st_snapshot_new();

  snap->n_cpus = 2;
  snap->interval_s = 2;
  snap->cpu_busy_percent = 5;
  snap->cpu_system_percent = 1;
  snap->mem_total_bytes = 8192 * MIB;
  snap->mem_available_bytes = 6144 * MIB;
  snap->mem_used_bytes = 2048 * MIB;
  snap->resident_bound_bytes = 1024 * MIB;
  snap->block_read_per_s = snap->block_write_per_s = 0;
  snap->disk_read_per_s = snap->disk_write_per_s = 0;
  snap->net_receive_per_s = snap->net_send_per_s = snap->loopback_per_s = 0;
  snap->pressure_cpu_some = snap->pressure_memory_some = snap->pressure_io_full = 0;
  return snap;
}

static StEngineConfig
defaults(void)
{
  StEngineConfig c;
  st_engine_config_set_defaults(&c);
  return c;
}

static void
test_calm(void)
{
  StEngineConfig c = defaults();
  g_autoptr(StSnapshot) snap = calm_snapshot();
  const char *why = "x";

  g_assert_false(st_figures_need_processes(&c, snap, &why));
  g_assert_null(why);
  /* Disabled: nothing alerts, nothing to read for. */
  snap->cpu_busy_percent = 100;
  c.enabled = FALSE;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  st_engine_config_clear(&c);
}

/* All CPUs together, in percent of one, against half the lowest of the
 * process and application thresholds. */
static void
test_cpu(void)
{
  StEngineConfig c = defaults();
  g_autoptr(StSnapshot) snap = calm_snapshot();
  gdouble at = 0.5 * MIN(c.threshold[ST_METRIC_PROCESS_CPU], c.threshold[ST_METRIC_APP_CPU]);
  const char *why = NULL;

  snap->cpu_busy_percent = at / snap->n_cpus - 0.1;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  snap->cpu_busy_percent = at / snap->n_cpus;
  g_assert_true(st_figures_need_processes(&c, snap, &why));
  g_assert_nonnull(strstr(why, "CPU"));
  /* Unknown is not calm. */
  snap->cpu_busy_percent = NAN;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  /* CPU alerts off: the CPUs say nothing that matters. */
  snap->cpu_busy_percent = at;
  c.cpu_enabled = FALSE;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  st_engine_config_clear(&c);
}

/* No RSS exceeds anonymous + file-mapped pages. */
static void
test_memory(void)
{
  StEngineConfig c = defaults();
  g_autoptr(StSnapshot) snap = calm_snapshot();
  gdouble at = 0.8 * c.threshold[ST_METRIC_PROCESS_MEMORY] / 100.0 * 8192 * MIB;

  snap->resident_bound_bytes = (guint64)at - 4096;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  snap->resident_bound_bytes = (guint64)at + 4096;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  snap->resident_bound_bytes = G_MAXUINT64; /* unknown */
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  st_engine_config_clear(&c);
}

static void
test_disk(void)
{
  StEngineConfig c = defaults();
  g_autoptr(StSnapshot) snap = calm_snapshot();
  gdouble read_at =
      0.5 * MIN(c.threshold[ST_METRIC_PROCESS_DISK_READ], c.threshold[ST_METRIC_APP_DISK_READ]);
  gdouble write_at =
      0.5 * MIN(c.threshold[ST_METRIC_PROCESS_DISK_WRITE], c.threshold[ST_METRIC_APP_DISK_WRITE]);

  snap->block_read_per_s = read_at * 0.99;
  snap->block_write_per_s = write_at * 0.99;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  snap->block_read_per_s = read_at;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  snap->block_read_per_s = 0;
  snap->block_write_per_s = write_at;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  snap->block_write_per_s = NAN;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  /* A network filesystem charges reads without the block layer. */
  snap->block_write_per_s = 0;
  snap->net_receive_per_s = read_at;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  snap->net_receive_per_s = NAN; /* unknown: no bound */
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  st_engine_config_clear(&c);
}

/* A system figure near its own threshold: its alert names the top programs
 * from a fresh table. */
static void
test_system_near(void)
{
  StEngineConfig c = defaults();
  g_autoptr(StSnapshot) snap = calm_snapshot();
  const char *why = NULL;

  snap->pressure_io_full = 0.8 * c.threshold[ST_METRIC_PRESSURE_IO];
  g_assert_true(st_figures_need_processes(&c, snap, &why));
  g_assert_nonnull(strstr(why, "system"));
  snap->pressure_io_full = 0;
  snap->mem_used_bytes = (guint64)(0.81 * c.threshold[ST_METRIC_MEMORY] / 100.0 * 8192 * MIB);
  snap->mem_available_bytes = snap->mem_total_bytes - snap->mem_used_bytes;
  g_assert_true(st_figures_need_processes(&c, snap, NULL));
  /* Unknown system figures alert neither way: no reason by themselves. */
  snap->mem_used_bytes = 2048 * MIB;
  snap->mem_available_bytes = 6144 * MIB;
  snap->pressure_cpu_some = snap->disk_read_per_s = NAN;
  g_assert_false(st_figures_need_processes(&c, snap, NULL));
  st_engine_config_clear(&c);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/figures/calm", test_calm);
  g_test_add_func("/figures/cpu", test_cpu);
  g_test_add_func("/figures/memory", test_memory);
  g_test_add_func("/figures/disk", test_disk);
  g_test_add_func("/figures/system-near", test_system_near);
  return g_test_run();
}
