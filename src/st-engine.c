/* st-engine.c: the alert state machine. Pure: see st-engine.h. */
#define G_LOG_DOMAIN "smoothtask-engine"
#include "st-engine.h"
#include "st-figures.h"
#include "st-names.h"

#include <string.h>

#define N_OTHERS 3
/* Bounds what one alert keeps of its window, whatever sustain-seconds is. */
#define MAX_SAMPLES 512

typedef enum {
  STATE_PENDING,
  STATE_FIRING,
} AlertState;

/* One sample of an alert's window: the figure over [t_us - w_us, t_us]. */
typedef struct {
  gint64 t_us;
  gint64 w_us;
  gdouble v;
} Sample;

typedef struct {
  StMetric metric;
  AlertState state;
  StLevel level;
  gint32 pid;
  guint64 start_time;
  char *name;
  char *icon;
  char comm[16];
  gint64 since_us;    /* first seen over the threshold */
  gboolean notified;  /* a RAISE went out for the current firing */
  gdouble sent_value; /* value of the last RAISE/UPDATE */
  StLevel sent_level;
  gboolean seen;   /* evaluated in the current pass */
  gdouble current; /* the latest value */
  gdouble peak;    /* the highest figure since it went pending */
  GArray *samples; /* of Sample: the last sustain-seconds, oldest first */
} Alert;

/* What outlives an alert: when it was last said, for cooldown and flaps. */
typedef struct {
  gint64 last_raise_us[2]; /* per StLevel */
  gint64 last_clear_us;
  gint64 last_active_us; /* last sample over the threshold */
  guint flaps;
  /* A process's history dies with the process: (pid, start) never returns. */
  gboolean of_process;
  gint32 pid;
  guint64 start_time;
} History;

struct _StEngine {
  StEngineConfig config;
  GHashTable *alerts;  /* "metric/subject" -> Alert */
  GHashTable *history; /* "metric/subject" -> History */
  GHashTable *ignored; /* st_engine_ignore_set_new() of the config */
  gint64 last_now_us;
  gdouble last_interval_s; /* of the snapshot being evaluated */
  gint64 sample_us;        /* what one sample of it weighs in a window */
  /* Metrics with an alert (pending or firing) when the sample began: for
   * the others a figure under the threshold needs no lookup at all, which
   * is nearly every process on every sample. */
  guint32 alerting;
};

G_STATIC_ASSERT(ST_N_METRICS <= 32);

#define FLAP_BASE_US (60 * G_USEC_PER_SEC)
#define MAX_FLAPS    16

/* The name a decision carries: it reaches D-Bus signals, the alert
 * command's environment, logs and snooze keys as it is, so it is sanitised
 * here, once, and never empty. Not the raw comm when the display name
 * cleans to nothing: the comm is the process's own choice of bytes too. */
static char *
clean_name(const char *raw)
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
    clean = clean_name(name);
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

static void
offender_clear(gpointer p)
{
  g_free(((StOffender *)p)->name);
}

static void
decision_free(gpointer p)
{
  StDecision *d = p;
  if (d == NULL)
    return;
  g_free(d->subject);
  g_free(d->name);
  g_free(d->icon);
  g_clear_pointer(&d->others, g_array_unref);
  g_free(d);
}

void
st_decision_free(StDecision *d)
{
  decision_free(d);
}

StDecision *
st_decision_copy(const StDecision *d)
{
  StDecision *c = g_memdup2(d, sizeof(*d));
  c->subject = g_strdup(d->subject);
  c->name = g_strdup(d->name);
  c->icon = g_strdup(d->icon);
  c->others = g_array_sized_new(FALSE, FALSE, sizeof(StOffender), d->others ? d->others->len : 0);
  g_array_set_clear_func(c->others, offender_clear);
  for (guint i = 0; d->others != NULL && i < d->others->len; i++) {
    StOffender o = g_array_index(d->others, StOffender, i);
    o.name = g_strdup(o.name);
    g_array_append_val(c->others, o);
  }
  return c;
}

/* The threshold a level is measured against. */
static gdouble
level_threshold(const StEngineConfig *c, StMetric metric, StLevel level)
{
  if (metric == ST_METRIC_MEMORY && level == ST_LEVEL_CRITICAL && c->memory_critical > 0)
    return c->memory_critical;
  return c->threshold[metric];
}

/* Adds the latest figure to the window and drops what fell out of it: the
 * last sustain-seconds, or the latest sample when that is longer. */
static void
alert_add_sample(StEngine *self, Alert *a, gdouble figure, gint64 now_us)
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
static gdouble
alert_figure(const Alert *a, gdouble threshold, gboolean *sustained)
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

/* A process that gave back all its memory and does nothing is a zombie or
 * on its way out, whatever the listing says: it has exited. Kernel threads
 * (kthreadd and its children) hold no memory and stay. */
static gboolean
process_emptied(const StProcess *p)
{
  return p->rss_bytes == 0 && !(p->cpu_percent > 0) && !(p->syscalls_per_s > 0) && p->pid != 2 &&
         p->ppid != 2;
}

static gboolean
app_emptied(const StAppGroup *g)
{
  return g->rss_bytes == 0 && !(g->cpu_percent > 0) && !(g->syscalls_per_s > 0);
}

/* A process's figure for a per-process metric: the one its own alert would
 * quote when it has one, so that a list compares like with like. */
static gdouble
process_figure(StEngine *self, StMetric per_proc, const StSnapshot *snap, const StProcess *p)
{
  char key[80];
  const Alert *a;

  g_snprintf(key, sizeof(key), "%s/%d:%" G_GUINT64_FORMAT, st_metric_to_string(per_proc), p->pid,
             p->start_time);
  a = g_hash_table_lookup(self->alerts, key);
  if (a != NULL && a->samples->len > 0)
    return alert_figure(a, self->config.threshold[per_proc], NULL);
  return st_figure_process(per_proc, snap, p);
}

/* The worst non-ignored processes for a metric, skipping one pid, each
 * within [at_least, at_most]. */
static GArray *
top_offenders(StEngine *self, const StSnapshot *snap, StMetric metric, gint32 skip_pid,
              gdouble at_least, gdouble at_most)
{
  StMetric per_proc = st_metric_per_process(metric);
  GArray *out = g_array_new(FALSE, TRUE, sizeof(StOffender));
  g_array_set_clear_func(out, offender_clear);

  for (guint i = 0; per_proc != ST_N_METRICS && i < snap->processes->len; i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, i);
    gdouble v;
    StOffender o;
    guint pos;

    if (p->pid == skip_pid || process_emptied(p))
      continue;
    v = process_figure(self, per_proc, snap, p);
    if (!st_value_available(v) || v <= 0 || v < at_least || v > at_most ||
        st_engine_ignored(self->ignored, st_process_name(p), p->comm, p->exe, p->app_id))
      continue;
    for (pos = 0; pos < out->len; pos++)
      if (v > g_array_index(out, StOffender, pos).value)
        break;
    if (pos >= N_OTHERS)
      continue;
    o.pid = p->pid;
    o.name = clean_name(st_process_name(p));
    memcpy(o.comm, p->comm, sizeof(o.comm));
    o.value = v;
    g_array_insert_val(out, pos, o);
    if (out->len > N_OTHERS)
      g_array_remove_index(out, out->len - 1);
  }
  return out;
}

static StDecision *
decision_new(StDecisionKind kind, const char *subject, const Alert *a, gdouble value,
             gdouble threshold, gint64 now_us)
{
  StDecision *d = g_new0(StDecision, 1);
  d->kind = kind;
  d->metric = a->metric;
  d->level = a->level;
  d->subject = g_strdup(subject);
  d->pid = a->pid;
  d->name = g_strdup(a->name);
  d->icon = g_strdup(a->icon);
  memcpy(d->comm, a->comm, sizeof(d->comm));
  d->value = value;
  d->current = a->current;
  d->threshold = threshold;
  d->over_s = (gdouble)(now_us - a->since_us) / 1e6;
  d->notify = TRUE;
  return d;
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

/* Advances one alert given a fresh value; returns a decision or NULL. */
static History *
history_get(StEngine *self, const char *key)
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
static gint64
flap_delay_us(const StEngineConfig *c, const History *h)
{
  gint64 max = (gint64)c->flap_max_delay_s * G_USEC_PER_SEC;
  if (c->flap_window_s == 0 || h->flaps == 0)
    return 0;
  return MIN(FLAP_BASE_US << MIN(h->flaps - 1, 20u), max);
}

static StDecision *
step(StEngine *self, const char *key, Alert *a, gint64 now_us)
{
  const StEngineConfig *c = &self->config;
  gdouble threshold, figure;
  gboolean sustained;
  History *h = history_get(self, key);
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
  figure = alert_figure(a, threshold, &sustained);
  if (a->state == STATE_PENDING) {
    gint64 hold = (gint64)c->sustain_s * G_USEC_PER_SEC + flap_delay_us(c, h);
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
    return decision_new(ST_DECISION_RAISE, strchr(key, '/') + 1, a, figure, threshold, now_us);
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
    return decision_new(ST_DECISION_UPDATE, strchr(key, '/') + 1, a, figure, threshold, now_us);
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
    a->name = proc != NULL ? clean_name(st_process_name(proc)) : NULL;
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
      history_get(self, key)->last_clear_us = now_us;
      d = decision_new(ST_DECISION_CLEAR, subject, a, value, threshold, now_us);
      d->reason = ST_CLEAR_RECOVERED;
      d->notify = c->notify_recovery;
      d->others = g_array_new(FALSE, TRUE, sizeof(StOffender));
      g_ptr_array_add(out, d);
    }
    g_hash_table_remove(self->alerts, key);
    return NULL;
  }
  if (proc != NULL) {
    g_autofree char *name = clean_name(st_process_name(proc));
    if (g_strcmp0(a->name, name) != 0) {
      g_free(a->name);
      a->name = g_steal_pointer(&name); /* a process renamed itself (exec) */
      memcpy(a->comm, proc->comm, sizeof(a->comm));
    }
  }
  a->current = value;
  alert_add_sample(self, a, st_value_available(figure) ? figure : value, now_us);
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
      StDecision *d = decision_new(ST_DECISION_CLEAR, strchr(k, '/') + 1, a, NAN,
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

static void
forget_history(StEngine *self, const StSnapshot *snap, gint64 now_us)
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

static void
name_offenders(StEngine *self, const StSnapshot *snap, GPtrArray *out)
{
  /* Name who causes it: the top consumers of the same resource, by the
   * figure the text quotes. Beside a named process, only those over the
   * threshold and none above it: a higher one has an alert of its own (and
   * names this one). A system alert names nobody but the list, worst first;
   * its figure is of another unit, so it bounds nothing. */
  for (guint i = 0; i < out->len; i++) {
    StDecision *d = g_ptr_array_index(out, i);
    gboolean named = st_engine_is_process_metric(d->metric);
    d->mem_total_bytes = snap->mem_total_bytes;
    d->mem_available_bytes = snap->mem_available_bytes > 0 ? snap->mem_available_bytes
                             : snap->mem_total_bytes > snap->mem_used_bytes
                                 ? snap->mem_total_bytes - snap->mem_used_bytes
                                 : 0;
    if (d->others == NULL)
      d->others = top_offenders(self, snap, d->metric, d->pid, named ? d->threshold : 0,
                                named && st_value_available(d->value) ? d->value : INFINITY);
    if (d->pid != 0 && st_engine_is_app_metric(d->metric))
      g_array_set_size(d->others, 0); /* its own processes: said as one */
  }
}

GPtrArray *
st_engine_evaluate(StEngine *self, const StSnapshot *snap, gint64 now_us)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(decision_free);

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
    forget_history(self, snap, now_us);
  name_offenders(self, snap, out);
  return out;
}
