/* st-app.c: the running agent. */
#define G_LOG_DOMAIN "smoothtask"

#include "config.h"

#include "st-app.h"
#include "st-engine.h"
#include "st-format.h"
#include "st-hooks.h"
#include "st-notifier.h"
#include "st-privileges.h"
#include "st-settings.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <string.h>
#include <glib/gi18n.h>
#include <gio/gdesktopappinfo.h>

/* System monitors to offer in notifications, first installed one wins. */
static const char *const monitor_apps[] = {
    "org.gnome.SystemMonitor.desktop",
    "gnome-system-monitor.desktop",
    "org.kde.plasma-systemmonitor.desktop",
    "org.kde.ksysguard.desktop",
    "xfce4-taskmanager.desktop",
    NULL,
};

struct _StApp {
  GMainLoop *loop;
  GDBusConnection *bus; /* NULL without a session bus */
  StCollector *collector;
  StEngine *engine;
  StSettings *settings;
  StNotifier *notifier;
  StHooks *hooks;
  StSnapshot *snapshot;
  gint64 last_tick_us;
  int psi_fd; /* PSI memory trigger, or -1 */
  guint psi_source;
  gboolean psi_fired;
  gint64 next_snooze_end; /* wall-clock seconds; 0: none */
  guint timeout_id;
  guint interval_s;
  guint sigint_id, sigterm_id;
  GHashTable *names; /* alert key -> process name, for "Ignore" and "Snooze" */
  char *monitor_app; /* desktop id of a system monitor, or NULL */
  guint64 n_samples;
};

static void arm_timer(StApp *self);

static gint64
now_us(void)
{
  return g_get_monotonic_time();
}

static void
deliver(StApp *self, const StDecision *d)
{
  g_auto(StNotificationText) text = {0};
  g_autofree char *key = g_strdup_printf("%s/%s", st_metric_to_string(d->metric), d->subject);
  g_autofree char *ignore_label = NULL;
  const char *actions[9] = {NULL};
  guint n = 0;

  st_format_decision(d, &text);
  st_hooks_alert(self->hooks, d, &text);
  g_debug("Decision %s %s: %s",
          d->kind == ST_DECISION_RAISE    ? "raise"
          : d->kind == ST_DECISION_UPDATE ? "update"
                                          : "clear",
          key, text.plain);

  if (d->kind == ST_DECISION_CLEAR) {
    g_hash_table_remove(self->names, key);
    if (d->notify)
      st_notifier_show(self->notifier, key, &text, NULL, TRUE, NULL, NULL);
    else
      st_notifier_close(self->notifier, key);
    st_notifier_forget(self->notifier, key);
    return;
  }
  g_hash_table_replace(self->names, g_strdup(key), g_strdup(d->name != NULL ? d->name : ""));
  actions[n++] = "snooze";
  actions[n++] = _("Snooze for 1 hour");
  if (d->name != NULL) {
    /* Translators: a button; %s is a process name. */
    ignore_label = g_strdup_printf(_("Ignore %s"), d->name);
    actions[n++] = "ignore";
    actions[n++] = ignore_label;
  }
  if (self->monitor_app != NULL) {
    actions[n++] = "monitor";
    actions[n++] = _("Open System Monitor");
  }
  st_notifier_show(self->notifier, key, &text, actions, FALSE, NULL, NULL);
}

/* "process-cpu/1234:5678" -> the metric's snooze key with the process name. */
static char *
snooze_key_for(StApp *self, const char *key)
{
  const char *name = g_hash_table_lookup(self->names, key);
  const char *slash = strchr(key, '/');
  g_autofree char *metric = NULL;

  if (name == NULL || slash == NULL)
    return NULL;
  metric = g_strndup(key, (gsize)(slash - key));
  return g_strdup_printf("%s/%s", metric, name[0] != '\0' ? name : "system");
}

static void
on_action(const char *key, const char *action, gpointer data)
{
  StApp *self = data;

  if (g_strcmp0(action, "snooze") == 0) {
    g_autofree char *skey = snooze_key_for(self, key);
    if (skey != NULL) {
      g_message("Snoozing %s for an hour, as asked", skey);
      st_settings_snooze(self->settings, skey, g_get_real_time() / G_USEC_PER_SEC + 3600);
    }
  } else if (g_strcmp0(action, "ignore") == 0) {
    const char *name = g_hash_table_lookup(self->names, key);
    if (name != NULL && name[0] != '\0') {
      g_message("Ignoring %s from now on, as asked", name);
      st_settings_add_ignored(self->settings, name);
    }
  } else if (g_strcmp0(action, "monitor") == 0 && self->monitor_app != NULL) {
    g_autoptr(GDesktopAppInfo) info = g_desktop_app_info_new(self->monitor_app);
    g_autoptr(GError) error = NULL;
    if (info != NULL && !g_app_info_launch(G_APP_INFO(info), NULL, NULL, &error))
      g_warning("Cannot start %s: %s", self->monitor_app, error->message);
  }
}

static gboolean on_tick(gpointer data);

/* A memory stall: sample now instead of at the next tick, so that the
 * alert (and who holds the memory) comes within a second. */
static gboolean
on_psi_event(gint fd, GIOCondition condition, gpointer data)
{
  StApp *self = data;

  if (condition & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
    g_message("The PSI memory trigger was closed by the kernel; memory pressure is still "
              "sampled every interval");
    self->psi_source = 0;
    return G_SOURCE_REMOVE;
  }
  /* Several events in one second are one stall. */
  if (g_get_monotonic_time() - self->last_tick_us < G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  g_debug("PSI memory trigger fired");
  self->psi_fired = TRUE;
  on_tick(self);
  return G_SOURCE_CONTINUE;
}

static void
arm_psi_trigger(StApp *self)
{
  /* 150 ms of stall within 1 s; unprivileged users may only use windows
   * that are a multiple of 2 s (Linux 6.5+), so try that second. */
  const char *triggers[] = {"some 150000 1000000", "some 300000 2000000"};
  const char *path = "/proc/pressure/memory";

  for (guint i = 0; i < G_N_ELEMENTS(triggers); i++) {
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      g_debug("No PSI trigger: %s: %s", path, g_strerror(errno));
      return;
    }
    if (write(fd, triggers[i], strlen(triggers[i]) + 1) > 0) {
      self->psi_fd = fd;
      self->psi_source = g_unix_fd_add(fd, G_IO_PRI | G_IO_ERR, on_psi_event, self);
      g_source_set_name_by_id(self->psi_source, "[smoothtask] PSI memory trigger");
      g_debug("PSI memory trigger armed: %s", triggers[i]);
      return;
    }
    g_debug("PSI trigger \"%s\" refused: %s", triggers[i], g_strerror(errno));
    close(fd);
  }
}

static gboolean
on_tick(gpointer data)
{
  StApp *self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) decisions = NULL;
  gint64 now = now_us();

  /* Far more time than an interval since the last tick (a suspend, a
   * stopped process): a rate over that gap would be an average over hours.
   * Start again from a baseline. */
  if (self->last_tick_us != 0 &&
      now - self->last_tick_us >
          3 * (gint64)self->interval_s * G_USEC_PER_SEC + 5 * G_USEC_PER_SEC) {
    g_message("%.0f s since the last sample: taking a new baseline",
              (gdouble)(now - self->last_tick_us) / G_USEC_PER_SEC);
    st_collector_reset(self->collector);
  }
  self->last_tick_us = now;
  if (self->next_snooze_end != 0 && g_get_real_time() / G_USEC_PER_SEC >= self->next_snooze_end)
    self->next_snooze_end =
        st_settings_prune_snoozes(self->settings, g_get_real_time() / G_USEC_PER_SEC);

  if (!st_collector_sample(self->collector, (guint64)now * 1000, self->snapshot, &error)) {
    g_warning("Sample failed: %s", error->message);
    return G_SOURCE_CONTINUE;
  }
  self->n_samples++;
  self->snapshot->memory_stall_triggered = self->psi_fired;
  self->psi_fired = FALSE;
  decisions = st_engine_evaluate(self->engine, self->snapshot, now);
  st_hooks_sample(self->hooks, self->snapshot, st_engine_get_n_active(self->engine));
  g_debug("Sample %" G_GUINT64_FORMAT " (%s): cpu %.1f%%, memory %.1f%%, %u processes, "
          "%u decisions",
          self->n_samples, self->snapshot->backend, self->snapshot->cpu_busy_percent,
          st_snapshot_mem_used_percent(self->snapshot), self->snapshot->processes->len,
          decisions->len);
  for (guint i = 0; i < decisions->len; i++)
    deliver(self, g_ptr_array_index(decisions, i));
  return G_SOURCE_CONTINUE;
}

static void
arm_timer(StApp *self)
{
  g_clear_handle_id(&self->timeout_id, g_source_remove);
  self->timeout_id = g_timeout_add_seconds(self->interval_s, on_tick, self);
  g_source_set_name_by_id(self->timeout_id, "[smoothtask] sample");
}

static void
apply_settings(StSettings *settings, gpointer data)
{
  StApp *self = data;
  StEngineConfig config;
  guint interval = st_settings_get_interval(settings);

  g_auto(GStrv) command = st_settings_get_alert_command(settings);
  gint64 now_wall = g_get_real_time() / G_USEC_PER_SEC;

  st_settings_get_config(settings, &config, now_wall, now_us());
  /* Samples further apart than this did not watch in between. */
  config.max_gap_s = 3 * interval + 5;
  st_engine_set_config(self->engine, &config);
  st_engine_config_clear(&config);
  st_hooks_set_command(self->hooks, command);
  self->next_snooze_end = st_settings_prune_snoozes(settings, now_wall);
  if (interval != self->interval_s) {
    g_message("Sampling every %u s", interval);
    self->interval_s = interval;
    if (self->timeout_id != 0)
      arm_timer(self);
  }
}

static gboolean
on_signal(gpointer data)
{
  StApp *self = data;
  g_message("Exiting on signal");
  g_main_loop_quit(self->loop);
  return G_SOURCE_CONTINUE;
}

/* One agent per session: autostart and the systemd user unit may both try.
 * Returns FALSE when another instance owns the name. Blocking is fine here:
 * nothing runs yet. */
static gboolean
claim_name(StApp *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 result;

  self->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
  if (self->bus == NULL) {
    g_message("No session bus (%s): cannot check for another instance", error->message);
    return TRUE;
  }
  reply = g_dbus_connection_call_sync(
      self->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new("(su)", APP_ID, 0x4 /* DO_NOT_QUEUE */), G_VARIANT_TYPE("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  if (reply == NULL) {
    g_message("Cannot own %s on the session bus: %s", APP_ID, error->message);
    return TRUE;
  }
  g_variant_get(reply, "(u)", &result);
  return result == 1 /* PRIMARY_OWNER */ || result == 4 /* ALREADY_OWNER */;
}

StApp *
st_app_new(const StAppOptions *options, GError **error)
{
  g_autoptr(StApp) self = g_new0(StApp, 1);
  g_autoptr(GError) priv_error = NULL;

  self->psi_fd = -1;

  if (!claim_name(self)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "SmoothTask is already running");
    return NULL;
  }

  self->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->settings = st_settings_new(error);
  if (self->settings == NULL)
    return NULL;
  self->collector = st_collector_new(options->backend);
  if (!st_collector_init(self->collector, error))
    return NULL;
  if (st_collector_get_fallback_reason(self->collector) != NULL)
    g_message("BPF collector unavailable, using /proc (system calls cannot be counted): %s",
              st_collector_get_fallback_reason(self->collector));
  /* Programs are loaded and attached: nothing below needs a capability. */
  if (!st_privileges_drop(&priv_error))
    g_warning("Could not drop privileges: %s", priv_error->message);
#ifdef __GLIBC__
  /* Loading parsed the kernel's BTF (megabytes, now freed): give the heap
   * back rather than carry it for the whole session. */
  malloc_trim(0);
#endif

  self->engine = st_engine_new();
  self->snapshot = st_snapshot_new();
  self->notifier = st_notifier_new(_("SmoothTask"), APP_ID);
  self->hooks = st_hooks_new(self->bus);
  st_notifier_set_action_func(self->notifier, on_action, self);
  for (const char *const *id = monitor_apps; *id != NULL && self->monitor_app == NULL; id++) {
    g_autoptr(GDesktopAppInfo) info = g_desktop_app_info_new(*id);
    if (info != NULL)
      self->monitor_app = g_strdup(*id);
  }
  st_settings_set_changed_func(self->settings, apply_settings, self);
  apply_settings(self->settings, self);
  arm_psi_trigger(self);
  self->loop = g_main_loop_new(NULL, FALSE);
  return g_steal_pointer(&self);
}

int
st_app_run(StApp *self)
{
  g_autoptr(GError) error = NULL;

  self->sigint_id = g_unix_signal_add(SIGINT, on_signal, self);
  self->sigterm_id = g_unix_signal_add(SIGTERM, on_signal, self);
  /* The first sample is the baseline every rate is measured from. */
  if (!st_collector_sample(self->collector, (guint64)now_us() * 1000, self->snapshot, &error))
    g_warning("Baseline sample failed: %s", error->message);
  g_message("SmoothTask %s watching with the %s backend, every %u s", PACKAGE_VERSION,
            st_collector_get_backend_name(self->collector), self->interval_s);
  arm_timer(self);
  g_main_loop_run(self->loop);
  return 0;
}

void
st_app_free(StApp *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id(&self->timeout_id, g_source_remove);
  g_clear_handle_id(&self->psi_source, g_source_remove);
  if (self->psi_fd >= 0)
    close(self->psi_fd);
  g_clear_handle_id(&self->sigint_id, g_source_remove);
  g_clear_handle_id(&self->sigterm_id, g_source_remove);
  g_clear_pointer(&self->notifier, st_notifier_free);
  g_clear_pointer(&self->hooks, st_hooks_free);
  g_clear_pointer(&self->engine, st_engine_free);
  g_clear_pointer(&self->collector, st_collector_free);
  g_clear_pointer(&self->settings, st_settings_free);
  g_clear_pointer(&self->snapshot, st_snapshot_free);
  g_clear_pointer(&self->loop, g_main_loop_unref);
  g_clear_pointer(&self->names, g_hash_table_unref);
  g_clear_object(&self->bus);
  g_free(self->monitor_app);
  g_free(self);
}
