/* st-notifier.c: asynchronous org.freedesktop.Notifications client.
 *
 * libnotify's notify_notification_show() is a synchronous round trip: a
 * server that hangs would freeze the agent's main loop for the D-Bus timeout.
 * So this room speaks the same protocol through GDBus, asynchronously.
 */
#define G_LOG_DOMAIN "smoothtask-notifier"

#include "config.h"

#include "st-notifier.h"

#define NOTIFY_NAME  "org.freedesktop.Notifications"
#define NOTIFY_PATH  "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"
/* How often to look for a session bus again after none was found. */
#define BUS_RETRY_US (60 * G_USEC_PER_SEC)

typedef struct {
  StNotificationText text;
  GStrv actions;
  gboolean transient;
  StNotifierSentFunc sent;
  gpointer sent_data;
} Request;

typedef struct {
  char *key;
  guint32 id;
  gboolean in_flight;
  Request *queued; /* latest request made while one was in flight */
} Entry;

struct _StNotifier {
  char *app_name;
  char *desktop_entry;
  GCancellable *cancellable;
  GDBusConnection *bus;
  gboolean bus_pending;
  gint64 bus_failed_at;
  guint watch_id;
  guint signal_id;
  gboolean server_present;
  gboolean server_has_actions;
  GHashTable *entries; /* key -> Entry */
  StNotifierActionFunc action_func;
  gpointer action_data;
};

static void send_request(StNotifier *self, Entry *entry, Request *req);

static void
request_free(Request *req)
{
  if (req == NULL)
    return;
  st_notification_text_clear(&req->text);
  g_strfreev(req->actions);
  g_free(req);
}

static void
entry_free(gpointer p)
{
  Entry *e = p;
  request_free(e->queued);
  g_free(e->key);
  g_free(e);
}

static Entry *
entry_get(StNotifier *self, const char *key)
{
  Entry *e = g_hash_table_lookup(self->entries, key);
  if (e == NULL) {
    e = g_new0(Entry, 1);
    e->key = g_strdup(key);
    g_hash_table_insert(self->entries, e->key, e);
  }
  return e;
}

static Entry *
entry_by_id(StNotifier *self, guint32 id)
{
  GHashTableIter iter;
  gpointer v;
  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, NULL, &v))
    if (((Entry *)v)->id == id && id != 0)
      return v;
  return NULL;
}

static void
on_signal(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *params, gpointer data)
{
  StNotifier *self = data;
  guint32 id;
  Entry *e;

  if (g_strcmp0(signal, "ActionInvoked") == 0 &&
      g_variant_is_of_type(params, G_VARIANT_TYPE("(us)"))) {
    const char *action;
    g_variant_get(params, "(u&s)", &id, &action);
    e = entry_by_id(self, id);
    if (e != NULL && self->action_func != NULL) {
      g_autofree char *key = g_strdup(e->key);
      g_debug("Action %s on %s", action, key);
      self->action_func(key, action, self->action_data);
    }
  } else if (g_strcmp0(signal, "NotificationClosed") == 0 &&
             g_variant_is_of_type(params, G_VARIANT_TYPE("(uu)"))) {
    g_variant_get(params, "(uu)", &id, NULL);
    e = entry_by_id(self, id);
    if (e != NULL)
      e->id = 0; /* a later update must make a new notification */
  }
}

static void
on_caps(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
  g_autofree const char **caps = NULL;
  StNotifier *self = data;

  if (reply == NULL) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_debug("GetCapabilities failed: %s", error->message);
    return;
  }
  g_variant_get(reply, "(^a&s)", &caps);
  self->server_has_actions = g_strv_contains(caps, "actions");
}

static void
on_server_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
  StNotifier *self = data;
  g_debug("Notification server %s appeared", owner);
  self->server_present = TRUE;
  g_dbus_connection_call(bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "GetCapabilities", NULL,
                         G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000, self->cancellable,
                         on_caps, self);
}

static void
on_server_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
  StNotifier *self = data;
  GHashTableIter iter;
  gpointer v;

  if (self->server_present)
    g_message("The notification server left the bus; alerts are logged until one returns");
  self->server_present = FALSE;
  /* Its ids mean nothing to the next server. */
  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, NULL, &v))
    ((Entry *)v)->id = 0;
}

static void
on_bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error, gpointer data)
{
  StNotifier *self = data;

  g_message("The session bus connection closed; notifications are logged until it returns");
  if (self->watch_id != 0)
    g_bus_unwatch_name(self->watch_id);
  self->watch_id = 0;
  g_dbus_connection_signal_unsubscribe(bus, self->signal_id);
  self->signal_id = 0;
  g_signal_handlers_disconnect_by_data(bus, self);
  on_server_vanished(bus, NOTIFY_NAME, self);
  self->bus_failed_at = g_get_monotonic_time();
  g_clear_object(&self->bus);
}

/* Sends (or, without a bus, fails) what was queued while connecting. */
static void
flush_queued(StNotifier *self)
{
  GHashTableIter iter;
  gpointer v;
  g_autoptr(GPtrArray) ready = g_ptr_array_new();

  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, NULL, &v))
    if (((Entry *)v)->queued != NULL && !((Entry *)v)->in_flight)
      g_ptr_array_add(ready, v);
  for (guint i = 0; i < ready->len; i++) {
    Entry *e = g_ptr_array_index(ready, i);
    send_request(self, e, g_steal_pointer(&e->queued));
  }
}

static void
on_bus(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish(res, &error);
  StNotifier *self;

  if (bus == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = data;
  self->bus_pending = FALSE;
  if (bus == NULL) {
    g_message("No session bus (%s): notifications are logged only", error->message);
    self->bus_failed_at = g_get_monotonic_time();
    flush_queued(self);
    return;
  }
  self->bus = bus;
  g_dbus_connection_set_exit_on_close(bus, FALSE);
  g_signal_connect(bus, "closed", G_CALLBACK(on_bus_closed), self);
  self->signal_id =
      g_dbus_connection_signal_subscribe(bus, NULL, NOTIFY_IFACE, NULL, NOTIFY_PATH, NULL,
                                         G_DBUS_SIGNAL_FLAGS_NONE, on_signal, self, NULL);
  self->watch_id =
      g_bus_watch_name_on_connection(bus, NOTIFY_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                     on_server_appeared, on_server_vanished, self, NULL);
  flush_queued(self);
}

static void
ensure_bus(StNotifier *self)
{
  if (self->bus != NULL || self->bus_pending)
    return;
  if (self->bus_failed_at != 0 && g_get_monotonic_time() - self->bus_failed_at < BUS_RETRY_US)
    return;
  self->bus_pending = TRUE;
  g_bus_get(G_BUS_TYPE_SESSION, self->cancellable, on_bus, self);
}

StNotifier *
st_notifier_new(const char *app_name, const char *desktop_entry)
{
  StNotifier *self = g_new0(StNotifier, 1);
  self->app_name = g_strdup(app_name);
  self->desktop_entry = g_strdup(desktop_entry);
  self->cancellable = g_cancellable_new();
  self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
  ensure_bus(self);
  return self;
}

void
st_notifier_free(StNotifier *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel(self->cancellable);
  if (self->watch_id != 0)
    g_bus_unwatch_name(self->watch_id);
  if (self->bus != NULL) {
    if (self->signal_id != 0)
      g_dbus_connection_signal_unsubscribe(self->bus, self->signal_id);
    g_signal_handlers_disconnect_by_data(self->bus, self);
  }
  g_clear_object(&self->bus);
  g_clear_object(&self->cancellable);
  g_hash_table_unref(self->entries);
  g_free(self->app_name);
  g_free(self->desktop_entry);
  g_free(self);
}

void
st_notifier_set_action_func(StNotifier *self, StNotifierActionFunc func, gpointer data)
{
  self->action_func = func;
  self->action_data = data;
}

gboolean
st_notifier_has_server(StNotifier *self)
{
  return self->server_present;
}

typedef struct {
  StNotifier *self;
  char *key;
  Request *req;
} Call;

static void
on_notify_reply(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
  Call *call = data;
  StNotifier *self = call->self;
  Entry *e;
  Request *next;

  if (reply == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    goto out;
  e = g_hash_table_lookup(self->entries, call->key);
  if (reply != NULL && e != NULL)
    g_variant_get(reply, "(u)", &e->id);
  else if (reply == NULL)
    g_message("Notification not shown (%s): %s", error->message, call->req->text.plain);
  if (call->req->sent != NULL)
    call->req->sent(reply != NULL, call->req->sent_data);
  if (e != NULL) {
    e->in_flight = FALSE;
    next = g_steal_pointer(&e->queued);
    if (next != NULL)
      send_request(self, e, next);
  }
out:
  request_free(call->req);
  g_free(call->key);
  g_free(call);
}

static void
send_request(StNotifier *self, Entry *entry, Request *req)
{
  GVariantBuilder actions, hints;
  Call *call;

  ensure_bus(self);
  if (self->bus == NULL && self->bus_pending) {
    /* Connecting: keep the latest text for this key until the bus is up. */
    if (entry->queued != NULL && entry->queued->sent != NULL)
      entry->queued->sent(FALSE, entry->queued->sent_data);
    request_free(entry->queued);
    entry->queued = req;
    return;
  }
  if (self->bus == NULL) {
    if (req->sent != NULL)
      req->sent(FALSE, req->sent_data);
    request_free(req);
    return;
  }
  if (entry->in_flight) {
    /* Only the latest text matters; it goes out when the reply arrives. */
    if (entry->queued != NULL && entry->queued->sent != NULL)
      entry->queued->sent(FALSE, entry->queued->sent_data);
    request_free(entry->queued);
    entry->queued = req;
    return;
  }
  g_variant_builder_init(&actions, G_VARIANT_TYPE("as"));
  if (self->server_has_actions && req->actions != NULL)
    for (char **a = req->actions; a[0] != NULL && a[1] != NULL; a += 2) {
      g_variant_builder_add(&actions, "s", a[0]);
      g_variant_builder_add(&actions, "s", a[1]);
    }
  g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
  g_variant_builder_add(&hints, "{sv}", "urgency", g_variant_new_byte(req->text.urgency));
  g_variant_builder_add(&hints, "{sv}", "category", g_variant_new_string(req->text.category));
  g_variant_builder_add(&hints, "{sv}", "desktop-entry", g_variant_new_string(self->desktop_entry));
  if (req->transient)
    g_variant_builder_add(&hints, "{sv}", "transient", g_variant_new_boolean(TRUE));

  call = g_new0(Call, 1);
  call->self = self;
  call->key = g_strdup(entry->key);
  call->req = req;
  entry->in_flight = TRUE;
  g_dbus_connection_call(self->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "Notify",
                         g_variant_new("(susssasa{sv}i)", self->app_name, entry->id, req->text.icon,
                                       req->text.summary, req->text.body, &actions, &hints, -1),
                         G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 10000, self->cancellable,
                         on_notify_reply, call);
}

void
st_notifier_show(StNotifier *self, const char *key, const StNotificationText *text,
                 const char *const *actions, gboolean transient, StNotifierSentFunc sent,
                 gpointer sent_data)
{
  Request *req = g_new0(Request, 1);

  /* Logged whatever happens on the bus: the journal keeps what was said. */
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "SMOOTHTASK_ALERT", key, "MESSAGE", "%s: %s",
                   text->summary, text->plain);
  req->text.summary = g_strdup(text->summary);
  req->text.body = g_strdup(text->body);
  req->text.plain = g_strdup(text->plain);
  req->text.urgency = text->urgency;
  req->text.category = text->category;
  req->text.icon = g_strdup(text->icon);
  req->actions = g_strdupv((char **)actions);
  req->transient = transient;
  req->sent = sent;
  req->sent_data = sent_data;
  send_request(self, entry_get(self, key), req);
}

void
st_notifier_close(StNotifier *self, const char *key)
{
  Entry *e = g_hash_table_lookup(self->entries, key);

  if (e == NULL)
    return;
  if (self->bus != NULL && e->id != 0)
    g_dbus_connection_call(self->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE, "CloseNotification",
                           g_variant_new("(u)", e->id), NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
                           NULL, NULL);
  if (!e->in_flight)
    g_hash_table_remove(self->entries, key);
  else
    e->id = 0;
}

void
st_notifier_forget(StNotifier *self, const char *key)
{
  Entry *e = g_hash_table_lookup(self->entries, key);
  if (e != NULL && !e->in_flight)
    g_hash_table_remove(self->entries, key);
}
