/* st-engine.h: the alert state machine.
 *
 * Pure: it takes a config, a snapshot and the time, and returns decisions.
 * No GSettings, no notifications, no clock reads. For every metric and
 * subject (the system, or one process identified by pid and start time):
 *
 *   normal -> pending      value >= threshold
 *   pending -> normal      value < threshold before sustain-seconds passed
 *   pending -> firing      sustained: a RAISE, unless the same metric and
 *                          subject was notified less than cooldown ago
 *   firing -> firing       an UPDATE when the value or level moved enough
 *   firing -> normal       value < threshold * (1 - hysteresis/100): a CLEAR
 *
 * Memory has a critical level that fires at once, bypassing sustain and
 * cooldown: by the time a warning would have been sustained, the OOM killer
 * has already chosen.
 *
 * A decision quotes the figure that crossed the threshold, never less: the
 * time-weighted mean over the last sustain-seconds when it is over, else the
 * peak. The latest sample alone may sit in the hysteresis band.
 */
#pragma once

#include "st-engine-config.h"
#include "st-snapshot.h"

G_BEGIN_DECLS

typedef enum {
  ST_DECISION_RAISE,
  ST_DECISION_UPDATE,
  ST_DECISION_CLEAR,
} StDecisionKind;

typedef enum {
  ST_CLEAR_RECOVERED, /* back under the hysteresis band */
  ST_CLEAR_EXITED,    /* the process is gone */
  ST_CLEAR_MUTED,     /* metric disabled, process ignored, or the agent disabled */
} StClearReason;

typedef struct {
  gint32 pid;
  char *name;
  char comm[16];
  gdouble value; /* by the same figure as a decision's value */
} StOffender;

typedef struct {
  StDecisionKind kind;
  StMetric metric;
  StLevel level;
  char *subject; /* "system" or "<pid>:<start>": stable id of the alert */
  gint32 pid;    /* 0 for the system */
  char *name;    /* process or application name, NULL for the system */
  char comm[16]; /* the kernel's name for it, raw bytes */
  char *icon;    /* application icon name, or NULL */
  /* What the text quotes. RAISE and UPDATE: the figure that crossed the
   * threshold (sustained mean, else peak), never below it. CLEAR: the
   * latest sample when recovered, NAN when exited or muted. */
  gdouble value;
  gdouble current;   /* the latest sample; NAN when the subject is gone */
  gdouble threshold; /* of the level: memory_critical for critical memory */
  gdouble over_s;    /* how long the value has been over the threshold */
  StClearReason reason;
  gboolean notify; /* CLEAR: say so (notify-recovery) or just withdraw */
  GArray *others;  /* of StOffender: top consumers, worst first; for a process
                      or an application, none above its own value */
  guint64 mem_total_bytes;
  guint64 mem_available_bytes; /* what is left of RAM now */
} StDecision;

StDecision *st_decision_copy(const StDecision *d);
void st_decision_free(StDecision *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StDecision, st_decision_free)

typedef struct _StEngine StEngine;

StEngine *st_engine_new(void);
void st_engine_free(StEngine *self);
/* Copies config. Alerts of metrics now disabled are withdrawn at the next
 * evaluation. */
void st_engine_set_config(StEngine *self, const StEngineConfig *config);
/* now_us: a monotonic clock in microseconds, supplied by the caller. Returns
 * a GPtrArray of StDecision (owned by the array). */
GPtrArray *st_engine_evaluate(StEngine *self, const StSnapshot *snap, gint64 now_us);
guint st_engine_get_n_active(StEngine *self);
/* Whether a sample must read the processes: an alert is pending or firing,
 * or its system figures leave a program within reach of a threshold
 * (st_figures_need_processes()). why: static text for the log. */
gboolean st_engine_needs_processes(StEngine *self, const StSnapshot *snap, const char **why);
/* Entries kept between samples (alerts and their history): bounded by what
 * is alive, never by what ever lived. */
guint st_engine_get_n_tracked(StEngine *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StEngine, st_engine_free)

G_END_DECLS
