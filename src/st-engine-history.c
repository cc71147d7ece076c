/* st-engine-history.c: an alert's window of figures (the time-weighted
 * figure it quotes) and the history that outlives it (cooldown, flaps).
 * Pure: see st-engine.h. */
#define G_LOG_DOMAIN "smoothtask-engine"
#include "st-engine-private.h"

/* Adds the latest figure to the window and drops what fell out of it: the
 * last sustain-seconds, or the latest sample when that is longer. */
void
st_engine_alert_add_sample(StEngine *self, Alert *a, gdouble figure, gint64 now_us)
{
  gint64 span = MAX((gint64)self->config.sustain_s * G_USEC_PER_SEC, self->sample_us);
  Sample sample = {now_us, self->sample_us, figure};
  guint drop = 0;

  g_array_append_val(a->samples, sample);
  while (drop < a->samples->len && g_array_index(a->samples, Sample, drop).t_us <= now_us - span)
    drop++;
  drop = MAX(drop, a->samples->len > MAX_SAMPLES ? a->samples->len - MAX_SAMPLES : 0);
  if (drop > 0)
    g_array_remove_range(a->samples, 0, drop);
  a->peak = MAX(a->peak, figure);
}

/* The figure a text may quote against threshold: the time-weighted mean of
 * the window when it is over (sustained), else the peak of the window, else
 * the peak since it went pending. The latest value alone can sit in the
 * hysteresis band: quoting it would read "40%" for an 80% threshold. */
gdouble
st_engine_alert_figure(const Alert *a, gdouble threshold, gboolean *sustained)
{
  gdouble sum = 0, weight = 0, peak = -INFINITY;

  for (guint i = 0; i < a->samples->len; i++) {
    const Sample *x = &g_array_index(a->samples, Sample, i);
    sum += x->v * (gdouble)x->w_us;
    weight += (gdouble)x->w_us;
    peak = MAX(peak, x->v);
  }
  if (sustained != NULL)
    *sustained = weight > 0 && sum / weight >= threshold;
  if (weight > 0 && sum / weight >= threshold)
    return sum / weight;
  if (peak >= threshold)
    return peak;
  if (a->peak >= threshold)
    return a->peak;
  return a->current;
}

/* Advances one alert given a fresh value; returns a decision or NULL. */
History *
st_engine_history_get(StEngine *self, const char *key)
{
  History *h = g_hash_table_lookup(self->history, key);
  if (h == NULL) {
    h = g_new0(History, 1);
    h->last_raise_us[0] = h->last_raise_us[1] = G_MININT64 / 2;
    h->last_clear_us = G_MININT64 / 2;
    g_hash_table_insert(self->history, g_strdup(key), h);
  }
  return h;
}

/* TRUE when a history remembers nothing that a fresh one would not: no
 * cooldown still running, no clear recent enough to count a flap, no flap
 * left unforgiven. Forgetting it then changes no decision, and keeps the
 * table to what was said lately, not to every application that ever
 * alerted. */
static gboolean
history_spent(const StEngineConfig *c, const History *h, gint64 now_us)
{
  gint64 window = (gint64)c->flap_window_s * G_USEC_PER_SEC;

  if (now_us - h->last_raise_us[ST_LEVEL_WARNING] < (gint64)c->cooldown_s * G_USEC_PER_SEC ||
      now_us - h->last_raise_us[ST_LEVEL_CRITICAL] <
          (gint64)c->critical_cooldown_s * G_USEC_PER_SEC)
    return FALSE;
  if (window == 0)
    return TRUE;
  return now_us - h->last_clear_us >= window &&
         (h->flaps == 0 || (now_us - h->last_active_us) / window >= (gint64)h->flaps);
}

/* The extra hold that flap damping puts before the next raise. */
gint64
st_engine_flap_delay_us(const StEngineConfig *c, const History *h)
{
  gint64 max = (gint64)c->flap_max_delay_s * G_USEC_PER_SEC;
  if (c->flap_window_s == 0 || h->flaps == 0)
    return 0;
  return MIN(FLAP_BASE_US << MIN(h->flaps - 1, 20u), max);
}

void
st_engine_forget_history(StEngine *self, const StSnapshot *snap, gint64 now_us)
{
  const StEngineConfig *c = &self->config;
  GHashTableIter iter;
  gpointer k, v;

  /* Forget the history of processes that are gone, or it would grow with
   * every process that ever crossed a threshold; and any history, of an
   * application above all (an id can come back, so it has no end of its
   * own), once it holds nothing a fresh one would not. */
  g_hash_table_iter_init(&iter, self->history);
  while (g_hash_table_iter_next(&iter, &k, &v)) {
    const History *h = v;
    const StProcess *now;
    if (g_hash_table_contains(self->alerts, k))
      continue;
    if (history_spent(c, h, now_us)) {
      g_hash_table_iter_remove(&iter);
      continue;
    }
    if (!h->of_process)
      continue;
    now = st_snapshot_find(snap, h->pid);
    if (now == NULL || now->start_time != h->start_time)
      g_hash_table_iter_remove(&iter);
  }
}
