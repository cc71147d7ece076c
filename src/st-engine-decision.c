/* st-engine-decision.c: the engine's decisions, and the programs each
 * names beside its subject. Pure: see st-engine.h. */
#define G_LOG_DOMAIN "smoothtask-engine"
#include "st-engine-private.h"
#include "st-figures.h"

#include <string.h>

static void
offender_clear(gpointer p)
{
  g_free(((StOffender *)p)->name);
}

void
st_engine_decision_free(gpointer p)
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
  st_engine_decision_free(d);
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
    return st_engine_alert_figure(a, self->config.threshold[per_proc], NULL);
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
    o.name = st_engine_clean_name(st_process_name(p));
    memcpy(o.comm, p->comm, sizeof(o.comm));
    o.value = v;
    g_array_insert_val(out, pos, o);
    if (out->len > N_OTHERS)
      g_array_remove_index(out, out->len - 1);
  }
  return out;
}

StDecision *
st_engine_decision_new(StDecisionKind kind, const char *subject, const Alert *a, gdouble value,
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

void
st_engine_name_offenders(StEngine *self, const StSnapshot *snap, GPtrArray *out)
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
