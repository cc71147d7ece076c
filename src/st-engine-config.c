/* st-engine-config.c: the engine's config and the metrics it knows.
 * Pure: no I/O, no clock. */
#define G_LOG_DOMAIN "smoothtask-engine-config"
#include "st-engine-config.h"
#include "st-names.h"

#include <string.h>

static const char *metric_names[ST_N_METRICS] = {
    "cpu",
    "memory",
    "syscalls",
    "pressure-cpu",
    "pressure-memory",
    "pressure-io",
    "disk-read",
    "disk-write",
    "network",
    "process-cpu",
    "process-memory",
    "process-syscalls",
    "process-disk-read",
    "process-disk-write",
    "process-network",
    "app-cpu",
    "app-memory",
    "app-syscalls",
    "app-disk-read",
    "app-disk-write",
    "app-network",
    "oom-kill",
};

const char *
st_metric_to_string(StMetric metric)
{
  g_return_val_if_fail(metric < ST_N_METRICS, "unknown");
  return metric_names[metric];
}

gboolean
st_engine_is_process_metric(StMetric metric)
{
  return metric >= ST_METRIC_PROCESS_CPU && metric <= ST_METRIC_PROCESS_NETWORK;
}

gboolean
st_engine_is_app_metric(StMetric metric)
{
  return metric >= ST_METRIC_APP_CPU && metric <= ST_METRIC_APP_NETWORK;
}

StMetric
st_metric_per_process(StMetric metric)
{
  switch (metric) {
    case ST_METRIC_CPU:
    case ST_METRIC_PRESSURE_CPU:
    case ST_METRIC_PROCESS_CPU:
    case ST_METRIC_APP_CPU:
      return ST_METRIC_PROCESS_CPU;
    case ST_METRIC_MEMORY:
    case ST_METRIC_PRESSURE_MEMORY:
    case ST_METRIC_PROCESS_MEMORY:
    case ST_METRIC_APP_MEMORY:
      return ST_METRIC_PROCESS_MEMORY;
    case ST_METRIC_SYSCALLS:
    case ST_METRIC_PROCESS_SYSCALLS:
    case ST_METRIC_APP_SYSCALLS:
      return ST_METRIC_PROCESS_SYSCALLS;
    case ST_METRIC_DISK_READ:
    case ST_METRIC_PROCESS_DISK_READ:
    case ST_METRIC_APP_DISK_READ:
      return ST_METRIC_PROCESS_DISK_READ;
    case ST_METRIC_DISK_WRITE:
    case ST_METRIC_PROCESS_DISK_WRITE:
    case ST_METRIC_APP_DISK_WRITE:
      return ST_METRIC_PROCESS_DISK_WRITE;
    case ST_METRIC_NETWORK:
    case ST_METRIC_PROCESS_NETWORK:
    case ST_METRIC_APP_NETWORK:
      return ST_METRIC_PROCESS_NETWORK;
    default:
      return ST_N_METRICS;
  }
}

void
st_engine_config_set_defaults(StEngineConfig *config)
{
  /* Kept equal to the schema defaults; docs/configuration.md says why. */
  memset(config, 0, sizeof(*config));
  config->enabled = TRUE;
  config->cpu_enabled = config->memory_enabled = config->syscalls_enabled = TRUE;
  config->threshold[ST_METRIC_CPU] = 90;
  config->threshold[ST_METRIC_MEMORY] = 90;
  config->threshold[ST_METRIC_SYSCALLS] = 1000000;
  config->threshold[ST_METRIC_PROCESS_CPU] = 90;
  config->threshold[ST_METRIC_PROCESS_MEMORY] = 50;
  config->threshold[ST_METRIC_PROCESS_SYSCALLS] = 500000;
  config->threshold[ST_METRIC_APP_CPU] = 150;
  config->threshold[ST_METRIC_APP_MEMORY] = 60;
  config->threshold[ST_METRIC_APP_SYSCALLS] = 800000;
  config->threshold[ST_METRIC_PRESSURE_CPU] = 50;
  config->threshold[ST_METRIC_PRESSURE_MEMORY] = 10;
  config->threshold[ST_METRIC_PRESSURE_IO] = 15;
  config->threshold[ST_METRIC_DISK_READ] = 500e6;
  config->threshold[ST_METRIC_DISK_WRITE] = 300e6;
  config->threshold[ST_METRIC_NETWORK] = 50e6;
  config->threshold[ST_METRIC_PROCESS_DISK_READ] = 200e6;
  config->threshold[ST_METRIC_PROCESS_DISK_WRITE] = 100e6;
  config->threshold[ST_METRIC_PROCESS_NETWORK] = 20e6;
  /* An application's processes together, as one of them alone. */
  config->threshold[ST_METRIC_APP_DISK_READ] = 200e6;
  config->threshold[ST_METRIC_APP_DISK_WRITE] = 100e6;
  config->threshold[ST_METRIC_APP_NETWORK] = 20e6;
  config->memory_critical = 97;
  config->sustain_s = 30;
  config->hysteresis_percent = 10;
  config->cooldown_s = 600;
  config->notify_recovery = TRUE;
  config->ignored = g_new0(char *, 1);
  config->critical_cooldown_s = 120;
  config->flap_window_s = 600;
  config->flap_max_delay_s = 1800;
  config->max_gap_s = 0;
  config->snoozed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void
st_engine_config_clear(StEngineConfig *config)
{
  g_clear_pointer(&config->ignored, g_strfreev);
  g_clear_pointer(&config->snoozed, g_hash_table_unref);
}

char *
st_engine_snooze_key(StMetric metric, const char *name)
{
  return g_strdup_printf("%s/%s", st_metric_to_string(metric), name != NULL ? name : "system");
}

void
st_engine_config_add_snooze(StEngineConfig *config, const char *key, gint64 until_us)
{
  g_hash_table_replace(config->snoozed, g_strdup(key), g_memdup2(&until_us, sizeof(until_us)));
}

/* The form names are compared in: sanitised first (a comm may end in half a
 * UTF-8 sequence, which casefolding would read past), then casefolded. */
char *
st_engine_ignore_fold(const char *name)
{
  g_autofree char *clean = st_sanitize_name(name, -1);
  return g_utf8_casefold(clean, -1);
}

static gboolean
in_set(GHashTable *set, const char *name)
{
  g_autofree char *folded = NULL;
  if (name == NULL || name[0] == '\0')
    return FALSE;
  folded = st_engine_ignore_fold(name);
  return g_hash_table_contains(set, folded);
}

GHashTable *
st_engine_ignore_set_new(char **ignored)
{
  GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (char **p = ignored; p != NULL && *p != NULL; p++) {
    /* Executable paths are matched as they are: they are bytes, not names. */
    if ((*p)[0] == '/')
      g_hash_table_add(set, g_strdup(*p));
    else if ((*p)[0] != '\0')
      g_hash_table_add(set, st_engine_ignore_fold(*p));
  }
  return set;
}

char *
st_engine_ignore_program(const char *exe, const char *comm)
{
  g_autofree char *base = g_path_get_basename(exe);
  g_autofree char *clean = st_sanitize_name(comm, -1);

  /* The kernel cuts comm at 15 bytes: a prefix of the file name is the
   * program itself. Anything else is a script its interpreter runs
   * ("/usr/bin/bash" with comm "backup.sh"): that script, not every bash. */
  if (clean[0] == '\0' || g_str_has_prefix(base, clean))
    return g_strdup(exe);
  return g_strdup_printf("%s (%s)", exe, clean);
}

gboolean
st_engine_ignored(GHashTable *set, const char *name, const char *comm, const char *exe,
                  const char *app_id)
{
  if (g_hash_table_size(set) == 0)
    return FALSE;
  if (exe != NULL && g_hash_table_contains(set, exe))
    return TRUE;
  if (exe != NULL && comm != NULL) {
    g_autofree char *script = st_engine_ignore_program(exe, comm);
    if (g_hash_table_contains(set, script))
      return TRUE;
  }
  return in_set(set, name) || in_set(set, comm) || in_set(set, app_id);
}
