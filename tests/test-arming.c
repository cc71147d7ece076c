/* test-arming.c: syscall counting only when a threshold could be near. */
#include "st-arming.h"

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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/arming/on-demand", test_on_demand);
  g_test_add_func("/arming/modes", test_modes);
  return g_test_run();
}
