/* test-arming.c: syscall counting only when a threshold could be near. */
#include "st-arming.h"

#include <math.h>

#define S (G_USEC_PER_SEC)

static StSnapshot *
snapshot(gdouble process_system_percent, gdouble system_percent)
{
  StSnapshot *snap = st_snapshot_new();
  StProcess p = {0};

  snap->n_cpus = 2;
  snap->cpu_system_percent = system_percent;
  p.pid = 100;
  p.system_percent = process_system_percent;
  p.cpu_percent = process_system_percent;
  g_array_append_val(snap->processes, p);
  return snap;
}

static void
test_on_demand(void)
{
  /* 100 ns a syscall, 500k/s for a process: it needs 5% of a CPU in the
   * kernel; half of that arms. */
  StArming a = {ST_COUNTING_ON_DEMAND, 100, 500000, 1000000, 0};
  g_autoptr(StSnapshot) calm = snapshot(1.0, 1.0);
  g_autoptr(StSnapshot) near = snapshot(2.6, 1.4);
  g_autoptr(StSnapshot) busy_system = snapshot(0.5, 2.6);

  g_assert_false(st_arming_update(&a, calm, 0, 0));
  g_assert_true(st_arming_update(&a, near, 0, 1 * S));
  /* Calm again: stays armed for the calm period, then lets go. */
  g_assert_true(st_arming_update(&a, calm, 0, 2 * S));
  g_assert_true(st_arming_update(&a, calm, 0, 1 * S + ST_ARMING_CALM_US - 1));
  g_assert_false(st_arming_update(&a, calm, 0, 1 * S + ST_ARMING_CALM_US));
  /* An active syscall alert keeps it armed. */
  g_assert_true(st_arming_update(&a, calm, 1, 100 * S));
  g_assert_true(st_arming_update(&a, calm, 0, 101 * S));
  /* The system as a whole: 1M/s needs 10% of one CPU, 2.6% of each of two
   * arms. */
  g_assert_true(st_arming_update(&a, busy_system, 0, 1000 * S));
}

static void
test_modes(void)
{
  StArming always = {ST_COUNTING_ALWAYS, 100, 500000, 1000000, 0};
  StArming off = {ST_COUNTING_OFF, 100, 500000, 1000000, 0};
  StArming disabled = {ST_COUNTING_ON_DEMAND, 100, 0, 0, 0};
  g_autoptr(StSnapshot) calm = snapshot(0, 0);
  g_autoptr(StSnapshot) storm = snapshot(90, 45);
  StCountingMode m;

  g_assert_true(st_arming_update(&always, calm, 0, 0));
  g_assert_false(st_arming_update(&off, storm, 0, 0));
  /* No syscall threshold: nothing could be near. */
  g_assert_false(st_arming_update(&disabled, storm, 0, 0));
  g_assert_true(st_counting_mode_from_string("off", &m) && m == ST_COUNTING_OFF);
  g_assert_false(st_counting_mode_from_string("sometimes", &m));
}

/* The network hooks: attached at half the per-program threshold of all
 * traffic, loopback counted both ways; held for the calm period; never
 * when the alert is off or counting is "off". */
static void
test_network(void)
{
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  StNetArming a = {20e6, 0};
  gint64 t = 1000 * G_USEC_PER_SEC;

  snap->net_receive_per_s = 1e6;
  snap->net_send_per_s = 1e6;
  snap->loopback_per_s = 0;
  g_assert_false(st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 0, t));
  /* Two local programs streaming 5 MB/s: 10 MB/s charged, at the trigger. */
  snap->loopback_per_s = 4e6;
  g_assert_true(st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 0, t));
  snap->loopback_per_s = 0;
  g_assert_true(st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 0, t + 29 * G_USEC_PER_SEC));
  g_assert_false(st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 0, t + 31 * G_USEC_PER_SEC));
  /* An alert still active keeps them. */
  g_assert_true(st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 1, t + 40 * G_USEC_PER_SEC));
  /* Unknown is not a reason to attach. */
  snap->net_receive_per_s = NAN;
  g_assert_false(
      st_net_arming_update(&a, ST_COUNTING_ON_DEMAND, snap, 0, t + 100 * G_USEC_PER_SEC));
  g_assert_true(st_net_arming_update(&a, ST_COUNTING_ALWAYS, snap, 0, t));
  g_assert_false(st_net_arming_update(&a, ST_COUNTING_OFF, snap, 1, t));
  a.threshold = 0;
  g_assert_false(st_net_arming_update(&a, ST_COUNTING_ALWAYS, snap, 1, t));
}

/* A process can spend no more kernel time than the system: below the
 * trigger for all of them together, none needs looking at. */
static void
test_kernel_time_needs_processes(void)
{
  StArming a = {ST_COUNTING_ON_DEMAND, 100, 500000, 1000000, 0};
  StArming off = {ST_COUNTING_OFF, 100, 500000, 1000000, 0};
  g_autoptr(StSnapshot) quiet = snapshot(0, 1.2); /* 2.4% of one CPU */
  g_autoptr(StSnapshot) room = snapshot(0, 1.3);  /* 2.6%: 500k/s x 100 ns / 2 is 2.5% */
  g_autoptr(StSnapshot) unknown = snapshot(0, NAN);

  g_assert_false(st_arming_needs_processes(&a, quiet));
  g_assert_true(st_arming_needs_processes(&a, room));
  g_assert_true(st_arming_needs_processes(&a, unknown));
  g_assert_false(st_arming_needs_processes(&off, room));
}

static void
test_calm_refresh(void)
{
  StCalm calm = {.interval_s = 2};
  gint64 t = 1000 * S;
  guint reads = 0;

  /* The first sample reads, then every 10 s. */
  g_assert_true(st_calm_needs_processes(&calm, TRUE, t));
  for (guint i = 0; i < 50; i++)
    reads += st_calm_needs_processes(&calm, FALSE, t += 2 * S);
  g_assert_cmpuint(reads, ==, 50 / (ST_CALM_REFRESH_S / 2));
  /* Busy: every sample. */
  for (guint i = 0; i < 5; i++)
    g_assert_true(st_calm_needs_processes(&calm, TRUE, t += 2 * S));
  /* A refresh period from the last read, whatever the ticks' jitter. */
  for (guint i = 0; i < ST_CALM_REFRESH_S / 2 - 1; i++)
    g_assert_false(st_calm_needs_processes(&calm, FALSE, t += 2 * S));
  g_assert_true(st_calm_needs_processes(&calm, FALSE, t += 2 * S - S / 10));
  /* Calm samples 6 s apart: every other one reads. */
  g_assert_false(st_calm_needs_processes(&calm, FALSE, t += 6 * S));
  g_assert_true(st_calm_needs_processes(&calm, FALSE, t += 6 * S));
  /* Samples 10 s apart or more: each reads. */
  calm.interval_s = 15;
  g_assert_true(st_calm_needs_processes(&calm, FALSE, t += 15 * S));
  g_assert_true(st_calm_needs_processes(&calm, FALSE, t += 15 * S));
}

/* Calm samples are spaced by a fifth of the sustain, between one and three
 * intervals; busy ones come every interval. */
static void
test_calm_interval(void)
{
  StCalm calm = {.interval_s = 2, .sustain_s = 30};

  g_assert_cmpuint(st_calm_interval_s(&calm, TRUE), ==, 2);
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 6);
  calm.sustain_s = 3600;
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 2 * ST_CALM_MAX_INTERVALS);
  /* A short sustain keeps every interval: an alert may come at once. */
  calm.sustain_s = 2;
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 2);
  calm.sustain_s = 0;
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 2);
  calm = (StCalm){.interval_s = 1, .sustain_s = 10};
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 2);
  g_assert_cmpuint(st_calm_interval_s(&calm, TRUE), ==, 1);
  /* No interval (a bad value that got through) is one second, never 0. */
  calm = (StCalm){.interval_s = 0, .sustain_s = 0};
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 1);
}

/* The spacing after a sample with @memory percent of RAM in use. */
static guint
calm_after(StCalm *calm, gdouble memory, gint64 now_us)
{
  st_calm_observe(calm, memory, now_us);
  return st_calm_interval_s(calm, FALSE);
}

/* Critical memory is raised without a sustain: calm samples stay one
 * interval apart while memory climbs fast enough to reach it within a
 * calm spacing. */
static void
test_calm_memory_climbing(void)
{
  StCalm calm = {.interval_s = 2, .sustain_s = 30, .memory_critical = 95};
  gint64 t = 1000 * S;

  g_assert_cmpuint(calm_after(&calm, 70, t), ==, 6);
  /* 5 points a second: 80 + 6 x 5 = 110 within 6 s. */
  g_assert_cmpuint(calm_after(&calm, 80, t += 2 * S), ==, 2);
  /* Asked again (a settings change) without a sample: the same answer. */
  g_assert_cmpuint(st_calm_interval_s(&calm, FALSE), ==, 2);
  /* 1 point a second: 81 + 6 = 87, short of 95. */
  g_assert_cmpuint(calm_after(&calm, 81, t += 1 * S), ==, 6);
  /* Flat, falling, unknown: calm. */
  g_assert_cmpuint(calm_after(&calm, 81, t += 6 * S), ==, 6);
  g_assert_cmpuint(calm_after(&calm, 60, t += 6 * S), ==, 6);
  g_assert_cmpuint(calm_after(&calm, NAN, t += 6 * S), ==, 6);
  /* No critical threshold: no such care. */
  calm.memory_critical = 0;
  g_assert_cmpuint(calm_after(&calm, 60, t += 6 * S), ==, 6);
  g_assert_cmpuint(calm_after(&calm, 94, t += 1 * S), ==, 6);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/arming/on-demand", test_on_demand);
  g_test_add_func("/arming/modes", test_modes);
  g_test_add_func("/arming/network", test_network);
  g_test_add_func("/arming/kernel-time-needs-processes", test_kernel_time_needs_processes);
  g_test_add_func("/calm/refresh-and-busy", test_calm_refresh);
  g_test_add_func("/calm/interval", test_calm_interval);
  g_test_add_func("/calm/memory-climbing", test_calm_memory_climbing);
  return g_test_run();
}
