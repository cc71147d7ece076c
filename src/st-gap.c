/* st-gap.c: the gap rule and the clock it is measured on.
 *
 * g_get_monotonic_time() is CLOCK_MONOTONIC, which stops while the machine
 * is suspended: a gap measured on it never shows a suspend. CLOCK_BOOTTIME
 * goes on. The rule itself is pure (times in, a verdict out) so that tests
 * need no clock; it must never read one.
 */
#define G_LOG_DOMAIN "smoothtask-gap"

#include "config.h"

#include "st-gap.h"

#include <time.h>

/* Intervals a sample may be late, and seconds of slack on top. */
#define GAP_INTERVALS 3
#define GAP_SLACK_S   5

guint
st_gap_max_s(guint interval_s)
{
  return GAP_INTERVALS * interval_s + GAP_SLACK_S;
}

gboolean
st_gap_exceeded(gint64 prev_us, gint64 now_us, guint interval_s)
{
  if (prev_us == 0)
    return FALSE;
  return now_us - prev_us > (gint64)st_gap_max_s(interval_s) * G_USEC_PER_SEC;
}

gint64
st_gap_boottime_us(void)
{
  struct timespec ts;

  /* Linux has had CLOCK_BOOTTIME since 2.6.39; never fails there. */
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
    return g_get_monotonic_time();
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}
