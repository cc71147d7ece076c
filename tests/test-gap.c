/* test-gap.c: the gap rule (a suspend, a stopped agent) and its clock. */
#include "config.h"

#include "st-gap.h"

#include <stdlib.h>
#include <time.h>

#define S ((gint64)G_USEC_PER_SEC)

static void
test_rule(void)
{
  const gint64 t0 = 1000 * S;

  /* Three intervals and five seconds of slack. */
  g_assert_cmpuint(st_gap_max_s(2), ==, 11);
  g_assert_cmpuint(st_gap_max_s(60), ==, 185);
  /* No previous sample: no gap. */
  g_assert_false(st_gap_exceeded(0, t0, 2));
  g_assert_false(st_gap_exceeded(t0, t0 + 2 * S, 2));
  g_assert_false(st_gap_exceeded(t0, t0 + 11 * S, 2));
  g_assert_true(st_gap_exceeded(t0, t0 + 11 * S + 1, 2));
  /* An hour's suspend, on a clock that counts it. */
  g_assert_true(st_gap_exceeded(t0, t0 + 3600 * S, 60));
  g_assert_false(st_gap_exceeded(t0, t0 + 185 * S, 60));
  /* A clock that went backwards is no gap. */
  g_assert_false(st_gap_exceeded(t0, t0 - 100 * S, 2));
}

static void
test_boottime(void)
{
  struct timespec ts;
  gint64 a, b, mono = g_get_monotonic_time();

  a = st_gap_boottime_us();
  b = st_gap_boottime_us();
  g_assert_cmpint(b, >=, a);
  /* Boottime is monotonic plus the time spent suspended: never less. */
  g_assert_cmpint(a, >=, mono - G_USEC_PER_SEC / 10);
  g_assert_no_errno(clock_gettime(CLOCK_BOOTTIME, &ts));
  g_assert_cmpint(llabs((gint64)ts.tv_sec * S + ts.tv_nsec / 1000 - b), <, S);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gap/rule", test_rule);
  g_test_add_func("/gap/boottime", test_boottime);
  return g_test_run();
}
