/* st-engine-private.h: what the engine's own files share: an alert, its
 * window and history, the engine's state. Not for other rooms. */
#pragma once

#include "st-engine.h"

G_BEGIN_DECLS

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

/* A process that gave back all its memory and does nothing is a zombie or
 * on its way out, whatever the listing says: it has exited. Kernel threads
 * (kthreadd and its children) hold no memory and stay. */
static inline gboolean
process_emptied(const StProcess *p)
{
  return p->rss_bytes == 0 && !(p->cpu_percent > 0) && !(p->syscalls_per_s > 0) && p->pid != 2 &&
         p->ppid != 2;
}

/* st-engine.c */
char *st_engine_clean_name(const char *raw);

/* st-engine-decision.c: decisions and who they name. */
StDecision *st_engine_decision_new(StDecisionKind kind, const char *subject, const Alert *a,
                                   gdouble value, gdouble threshold, gint64 now_us);
void st_engine_decision_free(gpointer p);
void st_engine_name_offenders(StEngine *self, const StSnapshot *snap, GPtrArray *out);

/* st-engine-history.c: an alert's window, and what outlives it. */
void st_engine_alert_add_sample(StEngine *self, Alert *a, gdouble figure, gint64 now_us);
gdouble st_engine_alert_figure(const Alert *a, gdouble threshold, gboolean *sustained);
History *st_engine_history_get(StEngine *self, const char *key);
gint64 st_engine_flap_delay_us(const StEngineConfig *c, const History *h);
void st_engine_forget_history(StEngine *self, const StSnapshot *snap, gint64 now_us);

G_END_DECLS
