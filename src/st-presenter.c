/* st-presenter.c: an incident's notification and its buttons (see the
 * header). */
#define G_LOG_DOMAIN "smoothtask-presenter"

#include "st-presenter.h"
#include "st-engine.h"
#include "st-format.h"
#include "st-names.h"

#include <glib/gi18n.h>
#include <gio/gdesktopappinfo.h>

#define SNOOZE_S 3600 /* the "Snooze … for 1 hour" button */

/* System monitors to offer in notifications, first installed one wins. */
static const char *const monitor_apps[] = {
    "org.gnome.SystemMonitor.desktop",
    "gnome-system-monitor.desktop",
    "org.kde.plasma-systemmonitor.desktop",
    "org.kde.ksysguard.desktop",
    "xfce4-taskmanager.desktop",
    NULL,
};

struct _StPresenter {
  StNotifier *notifier;   /* borrowed */
  StSettings *settings;   /* borrowed */
  StIncidents *incidents; /* borrowed */
  GHashTable *targets;    /* incident key -> Target, for "Ignore" and "Snooze" */
  char *monitor_app;      /* desktop id of a system monitor, or NULL */
};

/* What the buttons of an incident's notification act on, taken when it is
 * shown: the process may be gone by the time the user clicks. */
typedef struct {
  char *label;      /* the culprit's display name, or NULL for the system */
  char *ignore;     /* its executable's path or application id, or NULL */
  char *snooze_key; /* st_engine_snooze_key() of its alert */
} Target;

static void
target_free(gpointer p)
{
  Target *t = p;
  g_free(t->label);
  g_free(t->ignore);
  g_free(t->snooze_key);
  g_free(t);
}

static Target *
target_new(const StDecision *d)
{
  Target *t = g_new0(Target, 1);

  if (d->name != NULL)
    t->label = st_format_process_label(d->name, d->comm);
  if (st_engine_is_app_metric(d->metric) && g_str_has_prefix(d->subject, "app:")) {
    t->ignore = g_strdup(d->subject + 4);
  } else if (st_engine_is_process_metric(d->metric) && d->pid > 0) {
    /* The program, by its path: "Ignore bash" must not mean every bash. */
    g_autofree char *link = g_strdup_printf("/proc/%d/exe", d->pid);
    g_autofree char *exe = g_file_read_link(link, NULL);
    if (exe != NULL && exe[0] == '/' && !g_str_has_suffix(exe, " (deleted)"))
      t->ignore = st_engine_ignore_program(exe, d->comm);
    /* Unreadable (another user's process, or one holding capabilities the
     * agent does not): its name is all there is to go by. */
    else if (d->name != NULL)
      t->ignore = st_sanitize_name(d->name, -1);
  }
  t->snooze_key = st_engine_snooze_key(d->metric, d->name != NULL ? d->name : "system");
  return t;
}

void
st_presenter_present(StPresenter *self, const StIncidentAction *a)
{
  g_autofree char *snooze_label = NULL, *ignore_label = NULL;
  const char *actions[11] = {NULL};
  Target *t;
  guint n = 0;

  g_debug("Incident %s %s: %s / %s", a->key,
          a->kind == ST_INCIDENT_SHOW      ? (a->raise ? "raise" : "update")
          : a->kind == ST_INCIDENT_RECOVER ? "recover"
                                           : "withdraw",
          a->text.summary != NULL ? a->text.summary : "",
          a->text.plain != NULL ? a->text.plain : "");
  if (a->kind != ST_INCIDENT_SHOW) {
    g_hash_table_remove(self->targets, a->key);
    if (a->kind == ST_INCIDENT_RECOVER)
      st_notifier_show(self->notifier, a->key, &a->text, NULL, TRUE, NULL, NULL);
    else
      st_notifier_close(self->notifier, a->key);
    st_notifier_forget(self->notifier, a->key);
    return;
  }
  t = target_new(a->primary);
  g_hash_table_replace(self->targets, g_strdup(a->key), t);
  if (self->monitor_app != NULL) {
    /* A click on the notification itself. */
    actions[n++] = "default";
    actions[n++] = _("Open System Monitor");
  }
  /* Translators: a button; %s is a program ("Snooze Firefox alerts for 1 hour"). */
  snooze_label = t->label != NULL ? g_strdup_printf(_("Snooze %s alerts for 1 hour"), t->label)
                                  : g_strdup(_("Snooze these alerts for 1 hour"));
  actions[n++] = "snooze";
  actions[n++] = snooze_label;
  if (t->ignore != NULL && t->label != NULL) {
    /* Translators: a button; %s is a program's name. */
    ignore_label = g_strdup_printf(_("Ignore %s"), t->label);
    actions[n++] = "ignore";
    actions[n++] = ignore_label;
  }
  if (self->monitor_app != NULL) {
    actions[n++] = "monitor";
    actions[n++] = _("Open System Monitor");
  }
  st_notifier_show(self->notifier, a->key, &a->text, actions, FALSE, NULL, NULL);
}

static void
open_monitor(StPresenter *self)
{
  g_autoptr(GDesktopAppInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  if (self->monitor_app == NULL)
    return;
  info = g_desktop_app_info_new(self->monitor_app);
  if (info != NULL && !g_app_info_launch(G_APP_INFO(info), NULL, NULL, &error))
    g_warning("Cannot start %s: %s", self->monitor_app, error->message);
}

static void
on_action(const char *key, const char *action, gpointer data)
{
  StPresenter *self = data;
  Target *t = g_hash_table_lookup(self->targets, key);

  if (g_strcmp0(action, "default") == 0 || g_strcmp0(action, "monitor") == 0) {
    open_monitor(self);
  } else if (g_strcmp0(action, "snooze") == 0 && t != NULL) {
    g_message("Snoozing %s for an hour, as asked", t->snooze_key);
    st_settings_snooze(self->settings, t->snooze_key,
                       g_get_real_time() / G_USEC_PER_SEC + SNOOZE_S);
  } else if (g_strcmp0(action, "ignore") == 0 && t != NULL && t->ignore != NULL) {
    g_message("Ignoring %s (%s) from now on, as asked", t->label, t->ignore);
    st_settings_add_ignored(self->settings, t->ignore);
  }
}

/* The user closed it (reason 2, also after a button): their word is final
 * until the trouble is over. */
static void
on_closed(const char *key, guint reason, gpointer data)
{
  StPresenter *self = data;
  if (reason != 2)
    return;
  g_debug("Incident %s closed by the user: quiet until it recovers", key);
  st_incidents_dismiss(self->incidents, key);
}

StPresenter *
st_presenter_new(StNotifier *notifier, StSettings *settings, StIncidents *incidents)
{
  StPresenter *self = g_new0(StPresenter, 1);

  self->notifier = notifier;
  self->settings = settings;
  self->incidents = incidents;
  self->targets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, target_free);
  for (const char *const *id = monitor_apps; *id != NULL && self->monitor_app == NULL; id++) {
    g_autoptr(GDesktopAppInfo) info = g_desktop_app_info_new(*id);
    if (info != NULL)
      self->monitor_app = g_strdup(*id);
  }
  st_notifier_set_action_func(notifier, on_action, self);
  st_notifier_set_closed_func(notifier, on_closed, self);
  return self;
}

void
st_presenter_free(StPresenter *self)
{
  if (self == NULL)
    return;
  st_notifier_set_action_func(self->notifier, NULL, NULL);
  st_notifier_set_closed_func(self->notifier, NULL, NULL);
  g_hash_table_unref(self->targets);
  g_free(self->monitor_app);
  g_free(self);
}
