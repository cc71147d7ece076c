/* st-gap.h: when two samples are too far apart to be one watch (a suspend,
 * a stopped agent), and the clock that sees it. Pure but for
 * st_gap_boottime_us(); knows nothing of samples or alerts. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Samples further apart than this, in seconds, did not watch in between:
 * three intervals and some slack for a loaded machine. */
guint st_gap_max_s(guint interval_s);
/* TRUE when @now_us is more than st_gap_max_s(@interval_s) after @prev_us
 * (both of one clock that counts suspend); FALSE without a @prev_us (0). */
gboolean st_gap_exceeded(gint64 prev_us, gint64 now_us, guint interval_s);
/* CLOCK_BOOTTIME in microseconds: like the monotonic clock, but it goes on
 * during a suspend (g_get_monotonic_time() stops there). */
gint64 st_gap_boottime_us(void);

G_END_DECLS
