/* st-engine-config.h: what the engine is told: metrics, levels, the config
 * struct, and the pure helpers on them (metric names, ignore matching,
 * snooze keys).
 *
 * The settings room fills this struct from GSettings and needs nothing else
 * of the engine: no snapshot, no decisions. Pure: no I/O, no clock.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  /* The system */
  ST_METRIC_CPU,
  ST_METRIC_MEMORY,
  ST_METRIC_SYSCALLS,
  ST_METRIC_PRESSURE_CPU,    /* PSI cpu some avg10, % */
  ST_METRIC_PRESSURE_MEMORY, /* PSI memory some avg10, % */
  ST_METRIC_PRESSURE_IO,     /* PSI io full avg10, % */
  ST_METRIC_DISK_READ,       /* bytes/s, whole disks */
  ST_METRIC_DISK_WRITE,
  ST_METRIC_NETWORK, /* bytes/s received + sent, loopback excluded */
  /* One process */
  ST_METRIC_PROCESS_CPU,
  ST_METRIC_PROCESS_MEMORY,
  ST_METRIC_PROCESS_SYSCALLS,
  ST_METRIC_PROCESS_DISK_READ, /* bytes/s it caused to be read from storage */
  ST_METRIC_PROCESS_DISK_WRITE,
  ST_METRIC_PROCESS_NETWORK, /* bytes/s sent + received on IP sockets */
  /* One application: all processes of one app-*.scope or service, in the
   * order of the process metrics */
  ST_METRIC_APP_CPU,
  ST_METRIC_APP_MEMORY,
  ST_METRIC_APP_SYSCALLS,
  ST_METRIC_APP_DISK_READ,
  ST_METRIC_APP_DISK_WRITE,
  ST_METRIC_APP_NETWORK,
  /* An event, not a figure: the kernel killed a process for memory. Never
   * evaluated by the engine; named in D-Bus signals and alert-command. */
  ST_METRIC_OOM_KILL,
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
                                      pressure: % of time stalled; disk and
                                      network: bytes per second; 0 disables */
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
GHashTable *st_engine_ignore_set_new(char **ignored);
gboolean st_engine_ignored(GHashTable *set, const char *name, const char *comm, const char *exe,
                           const char *app_id);
char *st_engine_ignore_fold(const char *name);
/* The ignored-processes entry that means this program and nothing else. */
char *st_engine_ignore_program(const char *exe, const char *comm);
/* "process-cpu/firefox", "cpu/system": what a snooze mutes. Stable across
 * restarts (a name, not a pid). */
char *st_engine_snooze_key(StMetric metric, const char *name);
void st_engine_config_add_snooze(StEngineConfig *config, const char *key, gint64 until_us);

G_END_DECLS
