/* st-notifier-thread.c: libnotify, confined to a notifier thread.
 *
 * libnotify's calls are synchronous round trips, and a stopped server would
 * hold them for its 25 s timeout. So libnotify's proxy, its signals and every
 * notify_* call live on one thread with its own GMainContext; the caller's
 * side (st-notifier.c) only queues requests for it. Before each call the
 * thread asks the server for its capabilities without a timeout: while the
 * server is stopped the thread waits there, before taking a request, so the
 * text it sends once the server answers is the latest one, and libnotify's own
 * calls do not time out on a server that merely paused (a timed-out Notify may
 * still show later, with an id nobody knows).
 */
#define G_LOG_DOMAIN "smoothtask-notifier"

#include "config.h"

#include "st-notifier-thread.h"

#include <libnotify/notify.h>

#define NOTIFY_NAME  "org.freedesktop.Notifications"
#define NOTIFY_PATH  "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"
/* Forgotten notifications still on screen that close_all withdraws; older
 * ones are left to expire, so that nothing grows. */
#define RETIRED_MAX 16

/* The notifier thread's side of one notification. A key's slot lasts until
 * st_notifier_close() or st_notifier_forget(); the next show takes a new one. */
typedef struct {
  Shared *sh;
  guint id;
  char *key;
  NotifyNotification *n;
  gboolean retired; /* forgotten, but still on screen */
} Slot;

typedef enum { REACH_SERVER, REACH_NO_SERVER, REACH_NO_BUS } Reach;

static void
slot_drop_notification(Slot *slot)
{
  if (slot->n == NULL)
    return;
  g_signal_handlers_disconnect_by_data(slot->n, slot);
  g_clear_object(&slot->n);
}

void
st_notifier_thread_slot_free(gpointer p)
{
  Slot *slot = p;
  slot_drop_notification(slot);
  g_free(slot->key);
  g_free(slot);
}

static void
slot_remove(Shared *sh, Slot *slot)
{
  if (slot->retired)
    g_queue_remove(&sh->retired, slot);
  g_hash_table_remove(sh->slots, GUINT_TO_POINTER(slot->id));
}

static guint32
notification_id(NotifyNotification *n)
{
  int id = 0;
  g_object_get(n, "id", &id, NULL);
  return (guint32)id;
}

static void
on_action(NotifyNotification *n, char *action, gpointer data)
{
  Slot *slot = data;

  /* libnotify's proxy takes signals from the name's owner only; without an
   * owner there is nobody whose clicks count. */
  if (!g_atomic_int_get(&slot->sh->server_present)) {
    g_debug("Ignoring action %s on %s: no notification server", action, slot->key);
    return;
  }
  g_debug("Action %s on %s", action, slot->key);
  st_notifier_post_event(slot->sh, EVENT_ACTION, slot->key, action, 0);
}

static void
on_closed(NotifyNotification *n, gpointer data)
{
  Slot *slot = data;
  Shared *sh = slot->sh;
  guint reason = (guint)notify_notification_get_closed_reason(n);

  g_debug("Notification of %s closed by the server (reason %u)", slot->key, reason);
  /* libnotify reports one close per object: the next show needs a new one. */
  slot_drop_notification(slot);
  if (slot->retired)
    slot_remove(sh, slot);
  else
    st_notifier_post_event(sh, EVENT_CLOSED, slot->key, NULL, reason);
}

/* The server's ids mean nothing to another server or after the bus. */
static void
thread_drop_notifications(Shared *sh)
{
  GHashTableIter iter;
  gpointer v;

  g_queue_clear(&sh->retired);
  g_hash_table_iter_init(&iter, sh->slots);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    Slot *slot = v;
    if (slot->retired)
      g_hash_table_iter_remove(&iter);
    else
      slot_drop_notification(slot);
  }
}

static void
on_server_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
  Shared *sh = data;
  g_debug("Notification server %s appeared", owner);
  g_atomic_int_set(&sh->server_present, TRUE);
}

static void
on_server_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
  Shared *sh = data;

  if (g_atomic_int_get(&sh->server_present))
    g_message("The notification server left the bus; alerts are logged until one returns");
  g_atomic_int_set(&sh->server_present, FALSE);
  thread_drop_notifications(sh);
}

static void
thread_bus_lost(Shared *sh, const GError *error)
{
  if (error != NULL)
    g_debug("Session bus call failed: %s", error->message);
  if (!sh->bus_down_logged)
    g_message("The session bus connection closed; notifications are logged until it returns");
  sh->bus_down_logged = TRUE;
  g_atomic_int_set(&sh->server_present, FALSE);
  thread_drop_notifications(sh);
  if (sh->watch_id != 0)
    g_bus_unwatch_name(sh->watch_id);
  sh->watch_id = 0;
  g_clear_object(&sh->bus);
  /* libnotify caches its proxy on the dead connection: start it afresh, so
   * that the next call looks for the bus again. */
  notify_uninit();
  notify_init(sh->app_name);
}

static gboolean
is_bus_closed(Shared *sh, const GError *error)
{
  return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
         (sh->bus != NULL && g_dbus_connection_is_closed(sh->bus));
}

/* Connects to the session bus if not connected. */
static gboolean
thread_connect(Shared *sh)
{
  g_autoptr(GError) error = NULL;

  if (sh->bus != NULL && g_dbus_connection_is_closed(sh->bus))
    thread_bus_lost(sh, NULL);
  if (sh->bus != NULL)
    return TRUE;
  sh->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, sh->cancellable, &error);
  if (sh->bus != NULL && g_dbus_connection_is_closed(sh->bus)) {
    /* GLib hands out the dead connection while anyone still holds it. */
    g_clear_object(&sh->bus);
    return FALSE;
  }
  if (sh->bus == NULL) {
    if (!sh->bus_down_logged && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_message("No session bus (%s): notifications are logged only", error->message);
    sh->bus_down_logged = TRUE;
    return FALSE;
  }
  if (sh->bus_down_logged)
    g_message("Connected to the session bus again");
  sh->bus_down_logged = FALSE;
  /* The connection is shared: losing the bus must not end the process. */
  g_dbus_connection_set_exit_on_close(sh->bus, FALSE);
  sh->watch_id = g_bus_watch_name_on_connection(sh->bus, NOTIFY_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                on_server_appeared, on_server_vanished, sh, NULL);
  return TRUE;
}

/* Waits for the server to answer, however long that takes: see the file's
 * header. */
static Reach
thread_reach_server(Shared *sh)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **caps = NULL;

  if (!thread_connect(sh))
    return REACH_NO_BUS;
  reply = g_dbus_connection_call_sync(sh->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE,
                                      "GetCapabilities", NULL, G_VARIANT_TYPE("(as)"),
                                      G_DBUS_CALL_FLAGS_NONE, G_MAXINT, sh->cancellable, &error);
  if (reply == NULL) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return REACH_NO_SERVER;
    if (is_bus_closed(sh, error)) {
      thread_bus_lost(sh, error);
      return REACH_NO_BUS;
    }
    if (!sh->no_server_logged)
      g_message("No notification server (%s): alerts are logged only", error->message);
    sh->no_server_logged = TRUE;
    return REACH_NO_SERVER;
  }
  sh->no_server_logged = FALSE;
  g_variant_get(reply, "(^a&s)", &caps);
  sh->has_actions = g_strv_contains(caps, "actions");
  return REACH_SERVER;
}

static gboolean
thread_show(Shared *sh, Slot *slot, const Request *req, GError **error)
{
  const StNotificationText *t = &req->text;
  const char *summary = t->summary != NULL && t->summary[0] != '\0' ? t->summary : sh->app_name;

  if (slot->n == NULL) {
    slot->n = notify_notification_new(summary, t->body, t->icon);
    g_signal_connect(slot->n, "closed", G_CALLBACK(on_closed), slot);
  } else {
    notify_notification_update(slot->n, summary, t->body, t->icon);
  }
  notify_notification_set_app_name(slot->n, sh->app_name);
  notify_notification_clear_hints(slot->n);
  notify_notification_set_urgency(slot->n, (NotifyUrgency)MIN(t->urgency, NOTIFY_URGENCY_CRITICAL));
  if (t->category != NULL)
    notify_notification_set_category(slot->n, t->category);
  if (sh->desktop_entry != NULL)
    notify_notification_set_hint(slot->n, "desktop-entry", g_variant_new_string(sh->desktop_entry));
  if (req->transient)
    notify_notification_set_hint(slot->n, "transient", g_variant_new_boolean(TRUE));
  notify_notification_clear_actions(slot->n);
  if (sh->has_actions && req->actions != NULL)
    for (char **a = req->actions; a[0] != NULL && a[1] != NULL; a += 2)
      if (a[0][0] != '\0' && a[1][0] != '\0')
        notify_notification_add_action(slot->n, a[0], a[1], on_action, slot, NULL);
  return notify_notification_show(slot->n, error);
}

/* Withdraws slot's notification, if the server has it. */
static void
thread_close(Shared *sh, Slot *slot, Reach reach)
{
  g_autoptr(GError) error = NULL;
  NotifyNotification *n = slot->n;

  if (n == NULL)
    return;
  /* Ours to close: its NotificationClosed is no news to the caller. */
  g_signal_handlers_disconnect_by_data(n, slot);
  slot->n = NULL;
  if (reach == REACH_SERVER && notification_id(n) != 0 && !notify_notification_close(n, &error)) {
    g_debug("CloseNotification failed: %s", error->message);
    if (is_bus_closed(sh, error)) {
      g_object_unref(n);
      thread_bus_lost(sh, error);
      return;
    }
  }
  g_object_unref(n);
}

static void
thread_apply(Shared *sh, Op *op, Reach reach)
{
  Slot *slot = g_hash_table_lookup(sh->slots, GUINT_TO_POINTER(op->slot));

  if (op->close && slot != NULL)
    thread_close(sh, slot, reach);
  if (op->show != NULL) {
    g_autoptr(GError) error = NULL;
    gboolean shown = FALSE;

    if (reach == REACH_SERVER) {
      if (slot == NULL) {
        slot = g_new0(Slot, 1);
        slot->sh = sh;
        slot->id = op->slot;
        slot->key = g_strdup(op->key);
        g_hash_table_insert(sh->slots, GUINT_TO_POINTER(slot->id), slot);
      }
      shown = thread_show(sh, slot, op->show, &error);
      if (!shown && is_bus_closed(sh, error)) {
        thread_bus_lost(sh, error);
      } else if (!shown) {
        g_message("Notification not shown (%s): %s", error->message, op->show->text.plain);
        slot_drop_notification(slot);
      }
    }
    st_notifier_post_sent(sh, op->show, shown);
  }
  /* Looked up again: losing the server or the bus drops notifications. */
  slot = g_hash_table_lookup(sh->slots, GUINT_TO_POINTER(op->slot));
  if (op->forget && slot != NULL) {
    if (slot->n == NULL || notification_id(slot->n) == 0) {
      slot_remove(sh, slot);
      return;
    }
    slot->retired = TRUE;
    g_queue_push_tail(&sh->retired, slot);
    if (sh->retired.length > RETIRED_MAX)
      slot_remove(sh, g_queue_peek_head(&sh->retired));
  }
}

static void
thread_close_retired(Shared *sh, Reach reach)
{
  while (!g_queue_is_empty(&sh->retired)) {
    Slot *slot = g_queue_peek_head(&sh->retired);
    thread_close(sh, slot, reach);
    if (g_queue_peek_head(&sh->retired) == slot)
      slot_remove(sh, slot);
  }
}

/* Takes requests, oldest first, until none is left. */
gboolean
st_notifier_thread_process(gpointer data)
{
  Shared *sh = data;

  if (sh->processing)
    return G_SOURCE_REMOVE; /* dispatched by the iteration below: the loop sees it */
  sh->processing = TRUE;
  for (;;) {
    Op *op;
    guint close_all;
    gboolean work, quit;
    Reach reach;

    g_mutex_lock(&sh->lock);
    sh->wake_pending = FALSE;
    work = !g_queue_is_empty(&sh->queue) || sh->close_all_done != sh->close_all_asked;
    quit = sh->quit;
    g_mutex_unlock(&sh->lock);
    if (quit)
      g_main_loop_quit(sh->loop);
    if (quit || !work)
      break;

    reach = thread_reach_server(sh);
    /* Name owner changes and signals that arrived before the server's answer
     * come first: a server that restarted meanwhile drops our ids. */
    while (g_main_context_pending(sh->ctx))
      g_main_context_iteration(sh->ctx, FALSE);

    g_mutex_lock(&sh->lock);
    op = g_queue_pop_head(&sh->queue);
    if (op != NULL)
      g_hash_table_steal(sh->ops, GUINT_TO_POINTER(op->slot));
    close_all = sh->close_all_asked;
    work = close_all != sh->close_all_done;
    g_mutex_unlock(&sh->lock);

    if (op != NULL) {
      thread_apply(sh, op, reach);
      st_notifier_op_free(op);
      continue;
    }
    if (!work)
      continue; /* the queue was emptied by st_notifier_free() */
    /* The closes of every live key were queued before close_all was asked. */
    thread_close_retired(sh, reach);
    g_mutex_lock(&sh->lock);
    sh->close_all_done = close_all;
    g_cond_broadcast(&sh->cond);
    g_mutex_unlock(&sh->lock);
  }
  sh->processing = FALSE;
  return G_SOURCE_REMOVE;
}

gpointer
st_notifier_thread_main(gpointer data)
{
  Shared *sh = data;

  g_main_context_push_thread_default(sh->ctx);
  notify_init(sh->app_name);
  sh->loop = g_main_loop_new(sh->ctx, FALSE);
  /* Early, so that st_notifier_has_server() soon knows. */
  thread_connect(sh);
  g_main_loop_run(sh->loop);

  g_queue_clear(&sh->retired);
  g_hash_table_remove_all(sh->slots);
  if (sh->watch_id != 0)
    g_bus_unwatch_name(sh->watch_id);
  g_clear_object(&sh->bus);
  notify_uninit();
  /* Wakeups queued meanwhile hold references to sh. */
  while (g_main_context_iteration(sh->ctx, FALSE))
    ;
  g_clear_pointer(&sh->loop, g_main_loop_unref);
  g_main_context_pop_thread_default(sh->ctx);

  g_mutex_lock(&sh->lock);
  sh->exited = TRUE;
  g_cond_broadcast(&sh->cond);
  g_mutex_unlock(&sh->lock);
  st_notifier_shared_unref(sh);
  return NULL;
}
