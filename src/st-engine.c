/* st-engine.c: the alert state machine. Pure: see st-engine.h. */
#define G_LOG_DOMAIN "smoothtask-engine"
#include "st-engine-private.h"
#include "st-figures.h"
#include "st-names.h"

#include <string.h>

/* The name a decision carries: it reaches D-Bus signals, the alert
 * command's environment, logs and snooze keys as it is, so it is sanitised
 * here, once, and never empty. Not the raw comm when the display name
 * cleans to nothing: the comm is the process's own choice of bytes too. */
char *
st_engine_clean_name(const char *raw)
{
  char *name = st_sanitize_name(raw, -1);
  if (name[0] == '\0') {
    g_free(name);
    name = g_strdup("process");
  }
  return name;
}

/* name: raw; the snooze key was made from the decision's clean name. */
static gboolean
snoozed(const StEngineConfig *c, StMetric metric, const char *name, gint64 now_us)
{
  g_autofree char *key = NULL;
  g_autofree char *clean = NULL;
  const gint64 *until;

  if (c->snoozed == NULL || g_hash_table_size(c->snoozed) == 0)
    return FALSE;
  if (name != NULL)
    clean = st_engine_clean_name(name);
  key = st_engine_snooze_key(metric, clean);
  until = g_hash_table_lookup(c->snoozed, key);
  return until != NULL && now_us < *until;
}

static void
alert_free(gpointer p)
{
  Alert *a = p;
  g_free(a->name);
  g_free(a->icon);
  g_array_unref(a->samples);
  g_free(a);
}

StEngine *
st_engine_new(void)
{
  StEngine *self = g_new0(StEngine, 1);
  st_engine_config_set_defaults(&self->config);
  self->alerts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, alert_free);
  self->history = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->ignored = st_engine_ignore_set_new(self->config.ignored);
  return self;
}

void
st_engine_free(StEngine *self)
{
  if (self == NULL)
    return;
  st_engine_config_clear(&self->config);
  g_hash_table_unref(self->alerts);
  g_hash_table_unref(self->history);
  g_clear_pointer(&self->ignored, g_hash_table_unref);
  g_free(self);
}

void
st_engine_set_config(StEngine *self, const StEngineConfig *config)
{
  char **ignored = g_strdupv(config->ignored);
  GHashTable *snoozes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer k, v;

  if (config->snoozed != NULL) {
    g_hash_table_iter_init(&iter, config->snoozed);
    while (g_hash_table_iter_next(&iter, &k, &v))
      g_hash_table_insert(snoozes, g_strdup(k), g_memdup2(v, sizeof(gint64)));
  }
  st_engine_config_clear(&self->config);
  self->config = *config;
  self->config.ignored = ignored != NULL ? ignored : g_new0(char *, 1);
  self->config.snoozed = snoozes;
  /* Looked up once per process per sample: a set, not a scan. */
  g_clear_pointer(&self->ignored, g_hash_table_unref);
  self->ignored = st_engine_ignore_set_new(self->config.ignored);
}

guint
st_engine_get_n_active(StEngine *self)
{
  return g_hash_table_size(self->alerts);
}

gboolean
st_engine_needs_processes(StEngine *self, const StSnapshot *snap, const char **why)
{
  if (g_hash_table_size(self->alerts) > 0) {
    *why = "an alert is pending or firing";
    return TRUE;
  }
  return st_figures_need_processes(&self->config, snap, why);
}

guint
st_engine_get_n_tracked(StEngine *self)
{
  return g_hash_table_size(self->alerts) + g_hash_table_size(self->history);
}

/* The threshold a level is measured against. */
static gdouble
level_threshold(const StEngineConfig *c, StMetric metric, StLevel level)
{
  if (metric == ST_METRIC_MEMORY && level == ST_LEVEL_CRITICAL && c->memory_critical > 0)
    return c->memory_critical;
  return c->threshold[metric];
}

static gboolean
app_emptied(const StAppGroup *g)
{
  return g->rss_bytes == 0 && !(g->cpu_percent > 0) && !(g->syscalls_per_s > 0);
}

static StLevel
level_for(const StEngineConfig *c, StMetric metric, gdouble value)
{
  if (metric == ST_METRIC_MEMORY && c->memory_critical > 0 && value >= c->memory_critical)
    return ST_LEVEL_CRITICAL;
  /* A triggered memory stall (value 100) is as urgent as exhaustion. */
  if (metric == ST_METRIC_PRESSURE_MEMORY && value >= 100.0)
    return ST_LEVEL_CRITICAL;
  return ST_LEVEL_WARNING;
}

static StDecision *
step(StEngine *self, const char *key, Alert *a, gint64 now_us)
{
  const StEngineConfig *c = &self->config;
  gdouble threshold, figure;
  gboolean sustained;
  History *h = st_engine_history_get(self, key);
  gint64 window = (gint64)c->flap_window_s * G_USEC_PER_SEC;

  h->of_process = st_engine_is_process_metric(a->metric);
  h->pid = a->pid;
  h->start_time = a->start_time;
  gint64 backoff;

  /* Quiet for whole windows since the last activity: forgive flaps. */
  if (window > 0 && h->flaps > 0 && now_us - h->last_active_us > window)
    h->flaps -= (guint)MIN((gint64)h->flaps, (now_us - h->last_active_us) / window);
  h->last_active_us = now_us;

  a->level = level_for(c, a->metric, a->current);
  threshold = level_threshold(c, a->metric, a->level);
  figure = st_engine_alert_figure(a, threshold, &sustained);
  if (a->state == STATE_PENDING) {
    gint64 hold = (gint64)c->sustain_s * G_USEC_PER_SEC + st_engine_flap_delay_us(c, h);
    if (now_us - a->since_us < hold && a->level != ST_LEVEL_CRITICAL)
      return NULL;
    a->state = STATE_FIRING;
  }
  if (!a->notified) {
    backoff = (gint64)(a->level == ST_LEVEL_CRITICAL ? c->critical_cooldown_s : c->cooldown_s) *
              G_USEC_PER_SEC;
    if (now_us - h->last_raise_us[a->level] < backoff)
      return NULL; /* firing, silently: it was said recently */
    if (window > 0 && now_us - h->last_clear_us < window)
      h->flaps = MIN(h->flaps + 1, MAX_FLAPS);
    h->last_raise_us[a->level] = now_us;
    a->notified = TRUE;
    a->sent_value = figure;
    a->sent_level = a->level;
    return st_engine_decision_new(ST_DECISION_RAISE, strchr(key, '/') + 1, a, figure, threshold,
                                  now_us);
  }
  /* Update in place only when the text would say something new. An
   * escalation to critical is news, within its own backoff. */
  if (a->level == ST_LEVEL_CRITICAL && a->sent_level != ST_LEVEL_CRITICAL) {
    backoff = (gint64)c->critical_cooldown_s * G_USEC_PER_SEC;
    if (now_us - h->last_raise_us[ST_LEVEL_CRITICAL] < backoff)
      return NULL;
    h->last_raise_us[ST_LEVEL_CRITICAL] = now_us;
  }
  /* In the hysteresis band the sustained figure is under the threshold:
   * nothing new to say until it clears or climbs back. */
  if (a->level != a->sent_level ||
      (sustained && fabs(figure - a->sent_value) >= MAX(1.0, 0.05 * threshold))) {
    a->sent_value = figure;
    a->sent_level = a->level;
    return st_engine_decision_new(ST_DECISION_UPDATE, strchr(key, '/') + 1, a, figure, threshold,
                                  now_us);
  }
  return NULL;
}

/* CPU, syscall, disk and network figures are averages over the interval;
 * memory and pressure are levels. */
static gboolean
metric_is_rate(StMetric metric)
{
  StMetric per = st_metric_per_process(metric);
  return per != ST_METRIC_PROCESS_MEMORY && per != ST_N_METRICS && metric != ST_METRIC_PRESSURE_CPU;
}

static gboolean
app_alerting(StEngine *self, const char *app_id, StMetric app_metric)
{
  g_autofree char *key = NULL;
  if (app_id == NULL)
    return FALSE;
  key = g_strdup_printf("%s/app:%s", st_metric_to_string(app_metric), app_id);
  return g_hash_table_contains(self->alerts, key);
}

/* Feeds one value to the alert of (metric, subject); returns the alert when
 * it lives on. Unknown is not zero: an unavailable value neither raises nor
 * clears, it only keeps the alert as it is. figure: what a text may quote of
 * this sample, when it differs from the value compared (a PSI trigger). */
/* Under the threshold (or unknown) with no alert of this metric: nothing to
 * start and nothing to mark seen, so no key to build or look up. */
static inline gboolean
may_alert(const StEngine *self, StMetric metric, gdouble value)
{
  return (self->alerting & (1u << metric)) != 0 || value >= self->config.threshold[metric];
}

static Alert *
observe(StEngine *self, GPtrArray *out, StMetric metric, const char *subject, const StProcess *proc,
        gdouble value, gdouble figure, gint64 now_us)
{
  const StEngineConfig *c = &self->config;
  g_autofree char *key = NULL;
  Alert *a;
  gdouble threshold = c->threshold[metric];
  gdouble clear_at = threshold * (1.0 - CLAMP(c->hysteresis_percent, 0.0, 100.0) / 100.0);
  StDecision *d;

  if (!may_alert(self, metric, value))
    return NULL;
  key = g_strdup_printf("%s/%s", st_metric_to_string(metric), subject);
  a = g_hash_table_lookup(self->alerts, key);
  if (a != NULL)
    a->seen = TRUE;
  if (!st_value_available(value))
    return a;
  if (a == NULL) {
    if (value < threshold)
      return NULL;
    a = g_new0(Alert, 1);
    a->metric = metric;
    a->state = STATE_PENDING;
    a->peak = -INFINITY;
    a->samples = g_array_new(FALSE, FALSE, sizeof(Sample));
    a->pid = proc != NULL ? proc->pid : 0;
    a->start_time = proc != NULL ? proc->start_time : 0;
    a->name = proc != NULL ? st_engine_clean_name(st_process_name(proc)) : NULL;
    if (proc != NULL)
      memcpy(a->comm, proc->comm, sizeof(a->comm));
    /* A rate is an average over the interval that just ended: at or over
     * the threshold, it has been so since that interval began. Memory and
     * pressure are levels: they count from now. */
    a->since_us = now_us;
    if (metric_is_rate(metric))
      a->since_us -= (gint64)(self->last_interval_s * G_USEC_PER_SEC);
    a->seen = TRUE;
    g_hash_table_insert(self->alerts, g_strdup(key), a);
  } else if ((a->state == STATE_PENDING && value < threshold) ||
             (a->state == STATE_FIRING && value < clear_at)) {
    a->current = value;
    if (a->notified) {
      st_engine_history_get(self, key)->last_clear_us = now_us;
      d = st_engine_decision_new(ST_DECISION_CLEAR, subject, a, value, threshold, now_us);
      d->reason = ST_CLEAR_RECOVERED;
      d->notify = c->notify_recovery;
      d->others = g_array_new(FALSE, TRUE, sizeof(StOffender));
      g_ptr_array_add(out, d);
    }
    g_hash_table_remove(self->alerts, key);
    return NULL;
  }
  if (proc != NULL) {
    g_autofree char *name = st_engine_clean_name(st_process_name(proc));
    if (g_strcmp0(a->name, name) != 0) {
      g_free(a->name);
      a->name = g_steal_pointer(&name); /* a process renamed itself (exec) */
      memcpy(a->comm, proc->comm, sizeof(a->comm));
    }
  }
  a->current = value;
  st_engine_alert_add_sample(self, a, st_value_available(figure) ? figure : value, now_us);
  d = step(self, key, a, now_us);
  if (d != NULL)
    g_ptr_array_add(out, d);
  return a;
}

/* Returns FALSE when the sample must be skipped. */
static gboolean
begin_sample(StEngine *self, const StSnapshot *snap, gint64 now_us)
{
  const StEngineConfig *c = &self->config;
  GHashTableIter iter;
  gpointer v;

  /* A clock that went backwards gives no basis for sustain: skip the
   * sample. A long gap (suspend) means nothing was observed in between:
   * pending alerts start over rather than fire on the first sample after. */
  if (self->last_now_us != 0 && now_us <= self->last_now_us)
    return FALSE;
  if (self->last_now_us != 0 && c->max_gap_s > 0 &&
      now_us - self->last_now_us > (gint64)c->max_gap_s * G_USEC_PER_SEC) {
    g_hash_table_iter_init(&iter, self->alerts);
    while (g_hash_table_iter_next(&iter, NULL, &v)) {
      Alert *a = v;
      if (a->state != STATE_PENDING)
        continue;
      a->since_us = now_us;
      a->peak = -INFINITY;
      g_array_set_size(a->samples, 0);
    }
  }
  self->last_now_us = now_us;
  self->last_interval_s = st_value_available(snap->interval_s) ? MIN(snap->interval_s, 60.0) : 0;
  self->sample_us =
      self->last_interval_s > 0 ? (gint64)(self->last_interval_s * G_USEC_PER_SEC) : G_USEC_PER_SEC;

  self->alerting = 0;
  g_hash_table_iter_init(&iter, self->alerts);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    ((Alert *)v)->seen = FALSE;
    self->alerting |= 1u << ((Alert *)v)->metric;
  }
  return TRUE;
}

static void
observe_system(StEngine *self, const StSnapshot *snap, gint64 now_us, GPtrArray *out)
{
  const StEngineConfig *c = &self->config;

  for (StMetric m = ST_METRIC_CPU; m <= ST_METRIC_NETWORK; m++) {
    gdouble value = st_figure_system(m, snap);
    /* A PSI trigger counts as 100 to raise; the text quotes the stall. */
    gdouble figure = m == ST_METRIC_PRESSURE_MEMORY ? snap->pressure_memory_some : value;
    /* Unknown is not zero: an unavailable figure neither raises nor clears. */
    if (!st_metric_enabled(c, m) || snoozed(c, m, NULL, now_us))
      continue; /* withdrawn below, as not seen */
    observe(self, out, m, "system", NULL, value, figure, now_us);
  }
}

static void
observe_apps(StEngine *self, const StSnapshot *snap, gint64 now_us, GPtrArray *out)
{
  const StEngineConfig *c = &self->config;

  /* Applications first: a process of an application already alerting on the
   * same resource is not named again on its own. */
  for (guint i = 0; snap->apps != NULL && i < snap->apps->len; i++) {
    const StAppGroup *g = &g_array_index(snap->apps, StAppGroup, i);
    g_autofree char *subject = g_strdup_printf("app:%s", g->id);
    StProcess as_proc = {0};

    if (st_engine_ignored(self->ignored, g->name, NULL, NULL, g->id) || app_emptied(g))
      continue;
    as_proc.pid = g->main_pid;
    as_proc.display_name = g->name;
    for (StMetric m = ST_METRIC_APP_CPU; m <= ST_METRIC_APP_NETWORK; m++) {
      gdouble value = st_figure_app(m, snap, g);
      Alert *a;
      if (!st_metric_enabled(c, m) || snoozed(c, m, g->name, now_us))
        continue;
      a = observe(self, out, m, subject, &as_proc, value, value, now_us);
      if (a != NULL && a->icon == NULL)
        a->icon = g_strdup(g->icon);
    }
  }
}

static void
observe_processes(StEngine *self, const StSnapshot *snap, gint64 now_us, GPtrArray *out)
{
  const StEngineConfig *c = &self->config;

  for (guint i = 0; i < snap->processes->len; i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, i);
    const char *name = st_process_name(p);
    char subject[48] = "";

    /* An emptied process is not observed: its alert ends as exited, never
     * as "at 0% now". */
    if (st_engine_ignored(self->ignored, name, p->comm, p->exe, p->app_id) || process_emptied(p))
      continue;
    for (StMetric m = ST_METRIC_PROCESS_CPU; m <= ST_METRIC_PROCESS_NETWORK; m++) {
      gdouble value = st_figure_process(m, snap, p);
      /* Cheapest first: nearly every process is calm on every metric. */
      if (!may_alert(self, m, value) || !st_metric_enabled(c, m) || snoozed(c, m, name, now_us) ||
          app_alerting(self, p->app_id, m - ST_METRIC_PROCESS_CPU + ST_METRIC_APP_CPU))
        continue;
      if (subject[0] == '\0')
        g_snprintf(subject, sizeof(subject), "%d:%" G_GUINT64_FORMAT, p->pid, p->start_time);
      observe(self, out, m, subject, p, value, value, now_us);
    }
  }
}

/* A sample that did not read the processes says nothing of them: their
 * alerts stay as they are. */
static void
keep_programs(StEngine *self)
{
  GHashTableIter iter;
  gpointer v;

  g_hash_table_iter_init(&iter, self->alerts);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    Alert *a = v;
    if (st_engine_is_process_metric(a->metric) || st_engine_is_app_metric(a->metric))
      a->seen = TRUE;
  }
}

static void
withdraw_unseen(StEngine *self, const StSnapshot *snap, gint64 now_us, GPtrArray *out)
{
  const StEngineConfig *c = &self->config;
  GHashTableIter iter;
  gpointer k, v;

  /* Alerts not seen: process gone, now ignored, or metric disabled. */
  g_hash_table_iter_init(&iter, self->alerts);
  while (g_hash_table_iter_next(&iter, &k, &v)) {
    Alert *a = v;
    if (a->seen)
      continue;
    if (a->notified) {
      const StProcess *now = st_snapshot_find(snap, a->pid);
      gboolean gone = st_engine_is_process_metric(a->metric) && st_metric_enabled(c, a->metric) &&
                      (now == NULL || now->start_time != a->start_time || process_emptied(now));
      if (st_engine_is_app_metric(a->metric) && st_metric_enabled(c, a->metric)) {
        const StAppGroup *g = st_snapshot_find_app(snap, strchr(k, '/') + 1 + strlen("app:"));
        gone = g == NULL || app_emptied(g);
      }
      StDecision *d = st_engine_decision_new(ST_DECISION_CLEAR, strchr(k, '/') + 1, a, NAN,
                                             c->threshold[a->metric], now_us);
      /* Gone or muted, it has no figure now: nothing to quote. */
      d->current = NAN;
      d->reason = gone ? ST_CLEAR_EXITED : ST_CLEAR_MUTED;
      d->notify = gone && c->notify_recovery;
      d->others = g_array_new(FALSE, TRUE, sizeof(StOffender));
      g_ptr_array_add(out, d);
    }
    g_hash_table_iter_remove(&iter);
  }
}

GPtrArray *
st_engine_evaluate(StEngine *self, const StSnapshot *snap, gint64 now_us)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(st_engine_decision_free);

  g_return_val_if_fail(snap != NULL, out);
  if (!begin_sample(self, snap, now_us))
    return out;
  observe_system(self, snap, now_us, out);
  if (snap->processes_fresh) {
    observe_apps(self, snap, now_us, out);
    observe_processes(self, snap, now_us, out);
  } else {
    keep_programs(self);
  }
  withdraw_unseen(self, snap, now_us, out);
  if (snap->processes_fresh)
    st_engine_forget_history(self, snap, now_us);
  st_engine_name_offenders(self, snap, out);
  return out;
}
