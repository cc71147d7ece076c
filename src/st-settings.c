/* st-settings.c: reading org.smoothtask.Agent. */
#define G_LOG_DOMAIN "smoothtask-settings"

#include "config.h"

#include "st-settings.h"
#include "st-names.h"

#include <math.h>

#define KEY_ENABLED                "enabled"
#define KEY_INTERVAL               "sample-interval"
#define KEY_CPU_ENABLED            "enable-cpu-metrics"
#define KEY_MEMORY_ENABLED         "enable-memory-metrics"
#define KEY_SYSCALLS_ENABLED       "enable-syscall-monitoring"
#define KEY_SYSCALL_COUNTING       "syscall-counting"
#define KEY_CPU_THRESHOLD          "cpu-threshold"
#define KEY_PROC_CPU_THRESHOLD     "process-cpu-threshold"
#define KEY_MEMORY_THRESHOLD       "memory-threshold"
#define KEY_MEMORY_CRITICAL        "memory-critical-threshold"
#define KEY_PROC_MEMORY_THRESHOLD  "process-memory-threshold"
#define KEY_SYSCALL_THRESHOLD      "syscall-rate-threshold"
#define KEY_PROC_SYSCALL_THRESHOLD "process-syscall-rate-threshold"
#define KEY_SUSTAIN                "sustain-seconds"
#define KEY_HYSTERESIS             "hysteresis-percent"
#define KEY_COOLDOWN               "cooldown-seconds"
#define KEY_NOTIFY_RECOVERY        "notify-recovery"
#define KEY_IGNORED                "ignored-processes"
#define KEY_CRITICAL_COOLDOWN      "critical-cooldown-seconds"
#define KEY_FLAP_WINDOW            "flap-window-seconds"
#define KEY_FLAP_MAX_DELAY         "flap-max-delay-seconds"
#define KEY_SNOOZED                "snoozed"
#define KEY_ALERT_COMMAND          "alert-command"
#define KEY_APP_CPU_THRESHOLD      "app-cpu-threshold"
#define KEY_APP_MEMORY_THRESHOLD   "app-memory-threshold"
#define KEY_APP_SYSCALL_THRESHOLD  "app-syscall-rate-threshold"
#define KEY_PRESSURE_CPU           "pressure-cpu-threshold"
#define KEY_PRESSURE_MEMORY        "pressure-memory-threshold"
#define KEY_PRESSURE_IO            "pressure-io-threshold"

struct _StSettings {
  GSettings *settings;
  StSettingsChangedFunc changed_func;
  gpointer changed_data;
  gint64 snoozes_checked_s; /* snoozes that ended by then have been logged */
};

GQuark
st_settings_error_quark(void)
{
  return g_quark_from_static_string("st-settings-error-quark");
}

static void
on_changed(GSettings *settings, const char *key, gpointer data)
{
  StSettings *self = data;
  g_debug("Setting %s changed", key);
  if (self->changed_func != NULL)
    self->changed_func(self, self->changed_data);
}

StSettings *
st_settings_new(GError **error)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default();
  g_autoptr(GSettingsSchema) schema = NULL;
  StSettings *self;

  if (source != NULL)
    schema = g_settings_schema_source_lookup(source, APP_ID, TRUE);
  if (schema == NULL) {
    g_set_error(error, ST_SETTINGS_ERROR, ST_SETTINGS_ERROR_NO_SCHEMA,
                "The settings schema %s is not installed (run 'meson install', or set "
                "GSETTINGS_SCHEMA_DIR to the build tree's data/ directory)",
                APP_ID);
    return NULL;
  }
  self = g_new0(StSettings, 1);
  self->settings = g_settings_new_full(schema, NULL, NULL);
  g_signal_connect(self->settings, "changed", G_CALLBACK(on_changed), self);
  return self;
}

void
st_settings_free(StSettings *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data(self->settings, self);
  g_object_unref(self->settings);
  g_free(self);
}

void
st_settings_set_changed_func(StSettings *self, StSettingsChangedFunc func, gpointer data)
{
  self->changed_func = func;
  self->changed_data = data;
}

/* The schema's range guards against out-of-range writes through GSettings,
 * but a keyfile edited by hand can still hold nan or inf. */
static gdouble
get_percent(StSettings *self, const char *key, gdouble fallback, gdouble max)
{
  gdouble v = g_settings_get_double(self->settings, key);
  if (!isfinite(v) || v <= 0 || v > max) {
    g_warning("Ignoring invalid value %g of %s; using %g", v, key, fallback);
    return fallback;
  }
  return v;
}

/* Disk, network (bytes/s) and pressure thresholds; d: the defaults. */
static void
get_rate_and_pressure_thresholds(StSettings *self, StEngineConfig *c, const StEngineConfig *d)
{
  GSettings *s = self->settings;

  /* Bytes per second; 0 turns the alert off. An application's processes
   * together have the threshold of one process. */
  {
    const struct {
      const char *key;
      StMetric metric, app;
    } rates[] = {
        {"disk-read-threshold", ST_METRIC_DISK_READ, ST_N_METRICS},
        {"disk-write-threshold", ST_METRIC_DISK_WRITE, ST_N_METRICS},
        {"network-threshold", ST_METRIC_NETWORK, ST_N_METRICS},
        {"process-disk-read-threshold", ST_METRIC_PROCESS_DISK_READ, ST_METRIC_APP_DISK_READ},
        {"process-disk-write-threshold", ST_METRIC_PROCESS_DISK_WRITE, ST_METRIC_APP_DISK_WRITE},
        {"process-network-threshold", ST_METRIC_PROCESS_NETWORK, ST_METRIC_APP_NETWORK},
    };
    for (guint i = 0; i < G_N_ELEMENTS(rates); i++) {
      c->threshold[rates[i].metric] = (gdouble)g_settings_get_uint64(s, rates[i].key);
      if (rates[i].app != ST_N_METRICS)
        c->threshold[rates[i].app] = c->threshold[rates[i].metric];
    }
  }
  /* 0 turns a pressure alert off; get_percent() would call it invalid. */
  {
    const char *keys[] = {KEY_PRESSURE_CPU, KEY_PRESSURE_MEMORY, KEY_PRESSURE_IO};
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
      StMetric m = ST_METRIC_PRESSURE_CPU + i;
      gdouble v = g_settings_get_double(s, keys[i]);
      c->threshold[m] = v == 0 ? 0 : get_percent(self, keys[i], d->threshold[m], 100);
    }
  }
}

/* Snoozes still in effect, as monotonic expiries: one that ended is only
 * ignored here, never written back (the user's keyfile is theirs). */
static void
get_snoozes(StSettings *self, StEngineConfig *c, gint64 now_wall_s, gint64 now_mono_us)
{
  g_autoptr(GVariant) snoozed = g_settings_get_value(self->settings, KEY_SNOOZED);
  GVariantIter iter;
  const char *skey;
  gint64 until;

  g_variant_iter_init(&iter, snoozed);
  while (g_variant_iter_next(&iter, "{&sx}", &skey, &until))
    if (until > now_wall_s && until - now_wall_s < G_MAXINT64 / G_USEC_PER_SEC / 2)
      st_engine_config_add_snooze(c, skey, now_mono_us + (until - now_wall_s) * G_USEC_PER_SEC);
}

/* ignored-processes without empty or invalid entries; NULL-terminated. */
static char **
get_ignored(StSettings *self)
{
  g_auto(GStrv) ignored = g_settings_get_strv(self->settings, KEY_IGNORED);
  GPtrArray *names = g_ptr_array_new();

  for (char **p = ignored; *p != NULL; p++)
    if (**p != '\0' && g_utf8_validate(*p, -1, NULL))
      g_ptr_array_add(names, g_strdup(*p));
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

void
st_settings_get_config(StSettings *self, StEngineConfig *c, gint64 now_wall_s, gint64 now_mono_us)
{
  GSettings *s = self->settings;
  StEngineConfig d;

  st_engine_config_set_defaults(&d);
  *c = d;
  c->snoozed = g_steal_pointer(&d.snoozed);
  c->enabled = g_settings_get_boolean(s, KEY_ENABLED);
  c->cpu_enabled = g_settings_get_boolean(s, KEY_CPU_ENABLED);
  c->memory_enabled = g_settings_get_boolean(s, KEY_MEMORY_ENABLED);
  c->syscalls_enabled = g_settings_get_boolean(s, KEY_SYSCALLS_ENABLED);
  c->threshold[ST_METRIC_CPU] =
      get_percent(self, KEY_CPU_THRESHOLD, d.threshold[ST_METRIC_CPU], 100);
  c->threshold[ST_METRIC_MEMORY] =
      get_percent(self, KEY_MEMORY_THRESHOLD, d.threshold[ST_METRIC_MEMORY], 100);
  c->threshold[ST_METRIC_PROCESS_CPU] =
      get_percent(self, KEY_PROC_CPU_THRESHOLD, d.threshold[ST_METRIC_PROCESS_CPU], 100000);
  c->threshold[ST_METRIC_PROCESS_MEMORY] =
      get_percent(self, KEY_PROC_MEMORY_THRESHOLD, d.threshold[ST_METRIC_PROCESS_MEMORY], 100);
  c->memory_critical = get_percent(self, KEY_MEMORY_CRITICAL, d.memory_critical, 100);
  c->threshold[ST_METRIC_SYSCALLS] = MAX(1u, g_settings_get_uint(s, KEY_SYSCALL_THRESHOLD));
  c->threshold[ST_METRIC_PROCESS_SYSCALLS] =
      MAX(1u, g_settings_get_uint(s, KEY_PROC_SYSCALL_THRESHOLD));
  c->threshold[ST_METRIC_APP_CPU] =
      get_percent(self, KEY_APP_CPU_THRESHOLD, d.threshold[ST_METRIC_APP_CPU], 100000);
  c->threshold[ST_METRIC_APP_MEMORY] =
      get_percent(self, KEY_APP_MEMORY_THRESHOLD, d.threshold[ST_METRIC_APP_MEMORY], 100);
  c->threshold[ST_METRIC_APP_SYSCALLS] = MAX(1u, g_settings_get_uint(s, KEY_APP_SYSCALL_THRESHOLD));
  get_rate_and_pressure_thresholds(self, c, &d);
  c->sustain_s = g_settings_get_uint(s, KEY_SUSTAIN);
  c->hysteresis_percent = g_settings_get_double(s, KEY_HYSTERESIS);
  if (!isfinite(c->hysteresis_percent) || c->hysteresis_percent < 0 || c->hysteresis_percent > 90) {
    g_warning("Ignoring invalid value %g of %s", c->hysteresis_percent, KEY_HYSTERESIS);
    c->hysteresis_percent = d.hysteresis_percent;
  }
  c->cooldown_s = g_settings_get_uint(s, KEY_COOLDOWN);
  c->notify_recovery = g_settings_get_boolean(s, KEY_NOTIFY_RECOVERY);
  c->critical_cooldown_s = g_settings_get_uint(s, KEY_CRITICAL_COOLDOWN);
  c->flap_window_s = g_settings_get_uint(s, KEY_FLAP_WINDOW);
  c->flap_max_delay_s = g_settings_get_uint(s, KEY_FLAP_MAX_DELAY);

  get_snoozes(self, c, now_wall_s, now_mono_us);
  c->ignored = get_ignored(self);
  st_engine_config_clear(&d);
}

StCountingMode
st_settings_get_counting(StSettings *self)
{
  g_autofree char *mode = g_settings_get_string(self->settings, KEY_SYSCALL_COUNTING);
  StCountingMode out = ST_COUNTING_ON_DEMAND;

  if (!g_settings_get_boolean(self->settings, KEY_SYSCALLS_ENABLED))
    return ST_COUNTING_OFF;
  if (!st_counting_mode_from_string(mode, &out))
    g_warning("Unknown %s value \"%s\": counting on demand", KEY_SYSCALL_COUNTING, mode);
  return out;
}

guint
st_settings_get_interval(StSettings *self)
{
  return CLAMP(g_settings_get_uint(self->settings, KEY_INTERVAL), 1u, 60u);
}

gboolean
st_settings_add_ignored(StSettings *self, const char *name)
{
  g_auto(GStrv) old = g_settings_get_strv(self->settings, KEY_IGNORED);
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) next = NULL;

  if (g_strv_contains((const char *const *)old, name))
    return TRUE;
  builder = g_strv_builder_new();
  g_strv_builder_addv(builder, (const char **)old);
  g_strv_builder_add(builder, name);
  next = g_strv_builder_end(builder);
  return g_settings_set_strv(self->settings, KEY_IGNORED, (const char *const *)next);
}

gboolean
st_settings_snooze(StSettings *self, const char *key, gint64 until_wall_s)
{
  g_autoptr(GVariant) old = g_settings_get_value(self->settings, KEY_SNOOZED);
  gint64 now_wall_s = g_get_real_time() / G_USEC_PER_SEC;
  GVariantBuilder b;
  GVariantIter iter;
  const char *k;
  gint64 v;

  /* The user asked for a write: the snoozes that have ended go with it. */
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sx}"));
  g_variant_iter_init(&iter, old);
  while (g_variant_iter_next(&iter, "{&sx}", &k, &v))
    if (g_strcmp0(k, key) != 0 && v > now_wall_s)
      g_variant_builder_add(&b, "{sx}", k, v);
  g_variant_builder_add(&b, "{sx}", key, until_wall_s);
  return g_settings_set_value(self->settings, KEY_SNOOZED, g_variant_builder_end(&b));
}

/* Never writes. The agent writes settings only when the user asks (Ignore,
 * Snooze): a write of its own, on a timer, is one the user did not ask for,
 * and on a full disk the keyfile backend left the file at 0 bytes. An ended
 * snooze is out of effect without one: st_settings_get_config() leaves it
 * out, and the engine holds every snooze to its expiry. It leaves the
 * key with the next snooze the user asks for. */
gint64
st_settings_prune_snoozes(StSettings *self, gint64 now_wall_s)
{
  g_autoptr(GVariant) snoozed = g_settings_get_value(self->settings, KEY_SNOOZED);
  GVariantIter iter;
  gint64 earliest = 0, v;
  const char *k;

  g_variant_iter_init(&iter, snoozed);
  while (g_variant_iter_next(&iter, "{&sx}", &k, &v)) {
    if (v <= now_wall_s) {
      /* Once per snooze, however often this is called. */
      if (v > self->snoozes_checked_s) {
        g_autofree char *clean = st_sanitize_name(k, -1);
        g_message("Snooze of %s has ended", clean);
      }
      continue;
    }
    earliest = earliest == 0 ? v : MIN(earliest, v);
  }
  self->snoozes_checked_s = MAX(self->snoozes_checked_s, now_wall_s);
  return earliest;
}

char **
st_settings_get_alert_command(StSettings *self)
{
  return g_settings_get_strv(self->settings, KEY_ALERT_COMMAND);
}
