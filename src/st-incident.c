/* st-incident.c: one notification per incident (see the header). */
#define G_LOG_DOMAIN "smoothtask-incident"
#include "config.h"

#include "st-incident.h"

#include <string.h>

typedef struct {
  char *key;
  guint resources; /* bit per StResource */
  StResource first;
  char *signature; /* the meaning last shown */
  StLevel shown_level;
  gboolean shown;
  gboolean dismissed;
  gint64 last_show_us;
  StDecision *primary; /* current primary alert (copy) */
  StDecision *clear;   /* how it ended, for the recovery text */
} Incident;

struct _StIncidents {
  GHashTable *alerts;   /* "metric/subject" -> StDecision (latest raise or update) */
  GPtrArray *incidents; /* of Incident */
  guint next_id;
};

/* What one resource looks like after a sample. */
typedef struct {
  const StDecision *primary; /* the culprit's alert, else the system's */
  const char *culprit;       /* its subject when a program is to blame */
  StLevel level;
  GPtrArray *context; /* the other alerts on it (system, pressure) */
  StDecision *clear;  /* borrowed: a CLEAR on it in this sample */
} ResourceState;

StResource
st_metric_resource(StMetric metric)
{
  switch (metric) {
    case ST_METRIC_CPU:
    case ST_METRIC_PRESSURE_CPU:
    case ST_METRIC_PROCESS_CPU:
    case ST_METRIC_APP_CPU:
      return ST_RESOURCE_CPU;
    case ST_METRIC_MEMORY:
    case ST_METRIC_PRESSURE_MEMORY:
    case ST_METRIC_PROCESS_MEMORY:
    case ST_METRIC_APP_MEMORY:
      return ST_RESOURCE_MEMORY;
    case ST_METRIC_SYSCALLS:
    case ST_METRIC_PROCESS_SYSCALLS:
    case ST_METRIC_APP_SYSCALLS:
      return ST_RESOURCE_SYSCALLS;
    case ST_METRIC_NETWORK:
    case ST_METRIC_PROCESS_NETWORK:
    case ST_METRIC_APP_NETWORK:
      return ST_RESOURCE_NETWORK;
    default:
      return ST_RESOURCE_IO;
  }
}

static gboolean
blames_program(const StDecision *d)
{
  return st_engine_is_process_metric(d->metric) || st_engine_is_app_metric(d->metric);
}

/* Which alert speaks for a resource: a program over a system figure, the
 * system figure over pressure stalls; then the higher level and figure. */
static gint
rank(const StDecision *d)
{
  if (blames_program(d))
    return 2;
  return d->metric == ST_METRIC_CPU || d->metric == ST_METRIC_MEMORY ||
         d->metric == ST_METRIC_SYSCALLS || d->metric == ST_METRIC_DISK_READ ||
         d->metric == ST_METRIC_DISK_WRITE || d->metric == ST_METRIC_NETWORK;
}

static gboolean
better(const StDecision *a, const StDecision *b)
{
  if (rank(a) != rank(b))
    return rank(a) > rank(b);
  if (a->level != b->level)
    return a->level > b->level;
  return a->value > b->value;
}

static void
incident_free(gpointer p)
{
  Incident *inc = p;
  g_free(inc->key);
  g_free(inc->signature);
  st_decision_free(inc->primary);
  st_decision_free(inc->clear);
  g_free(inc);
}

static void
action_free(gpointer p)
{
  StIncidentAction *a = p;
  g_free(a->key);
  st_notification_text_clear(&a->text);
  st_decision_free(a->primary);
  g_free(a);
}

StIncidents *
st_incidents_new(void)
{
  StIncidents *self = g_new0(StIncidents, 1);
  self->alerts =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)st_decision_free);
  self->incidents = g_ptr_array_new_with_free_func(incident_free);
  return self;
}

void
st_incidents_free(StIncidents *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref(self->alerts);
  g_ptr_array_unref(self->incidents);
  g_free(self);
}

static void
take_decisions(StIncidents *self, GPtrArray *decisions, ResourceState *res)
{
  for (guint i = 0; i < decisions->len; i++) {
    StDecision *d = g_ptr_array_index(decisions, i);
    g_autofree char *key = g_strdup_printf("%s/%s", st_metric_to_string(d->metric), d->subject);
    StResource r = st_metric_resource(d->metric);

    if (d->kind == ST_DECISION_CLEAR) {
      g_hash_table_remove(self->alerts, key);
      /* The culprit's own end says most ("firefox has exited"). */
      if (res[r].clear == NULL || (blames_program(d) && !blames_program(res[r].clear)))
        res[r].clear = d;
    } else {
      g_hash_table_replace(self->alerts, g_steal_pointer(&key), st_decision_copy(d));
    }
  }
}

static void
survey(StIncidents *self, ResourceState *res)
{
  GHashTableIter iter;
  gpointer v;

  g_hash_table_iter_init(&iter, self->alerts);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    const StDecision *d = v;
    ResourceState *s = &res[st_metric_resource(d->metric)];
    if (s->primary == NULL || better(d, s->primary))
      s->primary = d;
    s->level = MAX(s->level, d->level);
  }
  for (guint r = 0; r < ST_N_RESOURCES; r++) {
    ResourceState *s = &res[r];
    if (s->primary == NULL)
      continue;
    s->culprit = blames_program(s->primary) ? s->primary->subject : NULL;
    s->context = g_ptr_array_new();
    g_hash_table_iter_init(&iter, self->alerts);
    while (g_hash_table_iter_next(&iter, NULL, &v)) {
      const StDecision *d = v;
      if (d != s->primary && st_metric_resource(d->metric) == r && !blames_program(d))
        g_ptr_array_add(s->context, v);
    }
  }
}

static Incident *
incident_with_culprit(StIncidents *self, const ResourceState *res, const char *culprit)
{
  for (guint i = 0; culprit != NULL && i < self->incidents->len; i++) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    for (guint r = 0; r < ST_N_RESOURCES; r++)
      if ((inc->resources & (1u << r)) && g_strcmp0(res[r].culprit, culprit) == 0)
        return inc;
  }
  return NULL;
}

static void
assign(StIncidents *self, ResourceState *res)
{
  guint taken = 0;

  for (guint i = 0; i < self->incidents->len; i++) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    for (guint r = 0; r < ST_N_RESOURCES; r++) {
      if (!(inc->resources & (1u << r)))
        continue;
      if (res[r].primary != NULL) {
        taken |= 1u << r;
        continue;
      }
      inc->resources &= ~(1u << r);
      if (res[r].clear != NULL && (inc->clear == NULL || r == inc->first)) {
        st_decision_free(inc->clear);
        inc->clear = st_decision_copy(res[r].clear);
      }
    }
  }
  for (guint r = 0; r < ST_N_RESOURCES; r++) {
    Incident *inc;
    if (res[r].primary == NULL || (taken & (1u << r)))
      continue;
    inc = incident_with_culprit(self, res, res[r].culprit);
    if (inc == NULL) {
      inc = g_new0(Incident, 1);
      inc->key = g_strdup_printf("incident-%u", ++self->next_id);
      inc->first = r;
      g_ptr_array_add(self->incidents, inc);
    }
    inc->resources |= 1u << r;
  }
}

/* The incident's resources, its first one first. */
static guint
ordered(const Incident *inc, StResource *out)
{
  guint n = 0;
  if (inc->resources & (1u << inc->first))
    out[n++] = inc->first;
  for (guint r = 0; r < ST_N_RESOURCES; r++)
    if (r != inc->first && (inc->resources & (1u << r)))
      out[n++] = r;
  return n;
}

static StIncidentAction *
action_new(StIncidentActionKind kind, const Incident *inc)
{
  StIncidentAction *a = g_new0(StIncidentAction, 1);
  a->kind = kind;
  a->key = g_strdup(inc->key);
  a->primary = inc->primary != NULL ? st_decision_copy(inc->primary) : NULL;
  return a;
}

static void
end_incident(Incident *inc, GPtrArray *out)
{
  StIncidentAction *a;

  /* The user closed it: nothing of it is on screen, nothing to say. */
  if (!inc->shown || inc->dismissed)
    return;
  if (inc->clear != NULL && inc->clear->notify && inc->clear->reason != ST_CLEAR_MUTED) {
    a = action_new(ST_INCIDENT_RECOVER, inc);
    st_format_decision(inc->clear, &a->text);
    /* A low-urgency message gets no banner on GNOME Shell, and a transient
     * one is dropped when its banner hides: normal urgency shows the
     * recovery once and leaves nothing stale in the message list. */
    a->text.urgency = 1;
  } else {
    a = action_new(ST_INCIDENT_WITHDRAW, inc);
  }
  g_ptr_array_add(out, a);
}

/* Does the new meaning hold something the shown one did not: another
 * culprit or alert speaking for a resource, or another resource? */
static gboolean
adds_meaning(const char *shown, const char *now)
{
  g_auto(GStrv) items = g_strsplit(now, ";", -1);
  for (char **p = items; *p != NULL; p++) {
    g_autofree char *item = g_strconcat(*p, ";", NULL);
    if ((*p)[0] != '\0' && (shown == NULL || strstr(shown, item) == NULL))
      return TRUE;
  }
  return FALSE;
}

static void
show_incident(Incident *inc, const ResourceState *res, gint64 now_us, GPtrArray *out)
{
  StResource order[ST_N_RESOURCES];
  guint n = ordered(inc, order);
  g_autoptr(GPtrArray) primaries = g_ptr_array_new();
  g_autoptr(GPtrArray) context = g_ptr_array_new();
  g_autoptr(GString) sig = g_string_new(NULL);
  StLevel level = ST_LEVEL_WARNING;
  StIncidentAction *a;
  gboolean escalation;

  for (guint i = 0; i < n; i++) {
    const ResourceState *s = &res[order[i]];
    g_ptr_array_add(primaries, (gpointer)s->primary);
    g_ptr_array_extend(context, s->context, NULL, NULL);
    level = MAX(level, s->level);
    g_string_append_printf(sig, "%u=%s/%s;", order[i], st_metric_to_string(s->primary->metric),
                           s->culprit != NULL ? s->culprit : "system");
  }
  st_decision_free(inc->primary);
  inc->primary = st_decision_copy(res[order[0]].primary);
  if (inc->dismissed)
    return;
  escalation = inc->shown && level > inc->shown_level;
  if (inc->shown && !escalation && !adds_meaning(inc->signature, sig->str))
    return; /* a figure moved, a resource calmed down: not worth a banner */
  if (inc->shown && !escalation && now_us - inc->last_show_us < ST_INCIDENT_MIN_UPDATE_US)
    return; /* a meaningful change, but too soon: it waits */
  a = action_new(ST_INCIDENT_SHOW, inc);
  a->raise = !inc->shown;
  st_format_incident((const StDecision *const *)primaries->pdata, primaries->len,
                     (const StDecision *const *)context->pdata, context->len, &a->text);
  g_ptr_array_add(out, a);
  inc->shown = TRUE;
  inc->shown_level = level;
  inc->last_show_us = now_us;
  g_free(inc->signature);
  inc->signature = g_strdup(sig->str);
}

GPtrArray *
st_incidents_update(StIncidents *self, GPtrArray *decisions, gint64 now_us)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(action_free);
  ResourceState res[ST_N_RESOURCES] = {{0}};

  take_decisions(self, decisions, res);
  survey(self, res);
  assign(self, res);
  for (guint i = 0; i < self->incidents->len;) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    if (inc->resources == 0) {
      end_incident(inc, out);
      g_ptr_array_remove_index(self->incidents, i);
      continue;
    }
    show_incident(inc, res, now_us, out);
    i++;
  }
  for (guint r = 0; r < ST_N_RESOURCES; r++)
    g_clear_pointer(&res[r].context, g_ptr_array_unref);
  return out;
}

static Incident *
find(StIncidents *self, const char *key)
{
  for (guint i = 0; i < self->incidents->len; i++) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    if (g_strcmp0(inc->key, key) == 0)
      return inc;
  }
  return NULL;
}

void
st_incidents_dismiss(StIncidents *self, const char *key)
{
  Incident *inc = find(self, key);
  if (inc != NULL)
    inc->dismissed = TRUE;
}

const StDecision *
st_incidents_lookup(StIncidents *self, const char *key)
{
  Incident *inc = find(self, key);
  return inc != NULL ? inc->primary : NULL;
}

GPtrArray *
st_incidents_shown_keys(StIncidents *self)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < self->incidents->len; i++) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    if (inc->shown && !inc->dismissed)
      g_ptr_array_add(keys, g_strdup(inc->key));
  }
  return keys;
}

guint
st_incidents_get_n(StIncidents *self)
{
  return self->incidents->len;
}

guint
st_incidents_count_alerts(StIncidents *self, StResource resource)
{
  GHashTableIter iter;
  gpointer v;
  guint n = 0;

  g_hash_table_iter_init(&iter, self->alerts);
  while (g_hash_table_iter_next(&iter, NULL, &v))
    n += st_metric_resource(((StDecision *)v)->metric) == resource;
  return n;
}

void
st_incidents_reshow(StIncidents *self)
{
  for (guint i = 0; i < self->incidents->len; i++) {
    Incident *inc = g_ptr_array_index(self->incidents, i);
    inc->shown = FALSE;
    g_clear_pointer(&inc->signature, g_free);
  }
}
