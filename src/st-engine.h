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

#include "st-snapshot.h"

G_BEGIN_DECLS

typedef enum {
  /* The system */
  ST_METRIC_CPU,
  ST_METRIC_MEMORY,
  ST_METRIC_SYSCALLS,
  ST_METRIC_PRESSURE_CPU,    /* PSI cpu some avg10, % */
  ST_METRIC_PRESSURE_MEMORY, /* PSI memory some avg10, % */
  ST_METRIC_PRESSURE_IO,     /* PSI io full avg10, % */
  /* One process */
  ST_METRIC_PROCESS_CPU,
  ST_METRIC_PROCESS_MEMORY,
  ST_METRIC_PROCESS_SYSCALLS,
  /* One application: all processes of one app-*.scope or service */
  ST_METRIC_APP_CPU,
  ST_METRIC_APP_MEMORY,
  ST_METRIC_APP_SYSCALLS,
  ST_N_METRICS
} StMetric;

typedef enum {
  ST_LEVEL_WARNING,
  ST_LEVEL_CRITICAL,
} StLevel;

typedef struct {
  gboolean enabled;
  gboolean cpu_enabled;
  gboolean memory_enabled;
  gboolean syscalls_enabled;
  gdouble threshold[ST_N_METRICS]; /* CPU: % of all CPUs; process and app CPU: % of one
                                      CPU; memory: % of RAM; syscalls: per second;
                                      pressure: % of time stalled; 0 disables */
  gdouble memory_critical;         /* % of RAM in use; 0 disables */
  guint sustain_s;
  gdouble hysteresis_percent;
  guint cooldown_s;
  gboolean notify_recovery;
  char **ignored;            /* see st_engine_ignored() */
  guint critical_cooldown_s; /* backoff of critical alerts, apart from cooldown_s */
  /* Flap damping: an alert raised again within flap_window_s of its last
   * clear counts a flap; each flap doubles an extra hold (from 60 s, at most
   * flap_max_delay_s) before the next raise; a window without any activity
   * takes one flap away. 0 disables. */
  guint flap_window_s;
  guint flap_max_delay_s;
  /* Samples further apart than this (suspend, a stopped agent) do not count
   * towards sustain: pending alerts start over. 0 disables. */
  guint max_gap_s;
  GHashTable *snoozed; /* snooze key (st_engine_snooze_key) -> gint64* monotonic expiry, us */
} StEngineConfig;

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
const StEngineConfig *st_engine_get_config(StEngine *self);
/* now_us: a monotonic clock in microseconds, supplied by the caller. Returns
 * a GPtrArray of StDecision (owned by the array). */
GPtrArray *st_engine_evaluate(StEngine *self, const StSnapshot *snap, gint64 now_us);
guint st_engine_get_n_active(StEngine *self);
/* Entries kept between samples (alerts and their history): bounded by what
 * is alive, never by what ever lived. */
guint st_engine_get_n_tracked(StEngine *self);

void st_engine_config_clear(StEngineConfig *config);
void st_engine_config_set_defaults(StEngineConfig *config);
gboolean st_engine_is_process_metric(StMetric metric);
gboolean st_engine_is_app_metric(StMetric metric);
/* The per-process metric of the same resource (to name top consumers), or
 * ST_N_METRICS when processes cannot be ranked for it (I/O pressure). */
StMetric st_metric_per_process(StMetric metric);
const char *st_metric_to_string(StMetric metric);
/* ignored-processes: display names, comms and application ids compared
 * case-insensitively; executable paths (starting with "/") exactly, alone
 * or as "<path> (<comm>)" for one script of an interpreter. */
gboolean st_engine_name_ignored(const StEngineConfig *config, const char *name, const char *comm);
GHashTable *st_engine_ignore_set_new(char **ignored);
gboolean st_engine_ignored(GHashTable *set, const char *name, const char *comm, const char *exe,
                           const char *app_id);
char *st_engine_ignore_fold(const char *name);
/* The ignored-processes entry that means this program and nothing else. */
char *st_engine_ignore_program(const char *exe, const char *comm);
/* The figure of one process for a per-process metric (CPU %, RSS % of RAM,
 * syscalls/s); NAN when unavailable. */
gdouble st_engine_process_value(StMetric metric, const StSnapshot *snap, const StProcess *proc);
/* "process-cpu/firefox", "cpu/system": what a snooze mutes. Stable across
 * restarts (a name, not a pid). */
char *st_engine_snooze_key(StMetric metric, const char *name);
void st_engine_config_add_snooze(StEngineConfig *config, const char *key, gint64 until_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StEngine, st_engine_free)

G_END_DECLS
