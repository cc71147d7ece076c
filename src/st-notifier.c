/* st-notifier.c: libnotify, confined to a notifier thread.
 *
 * libnotify's calls are synchronous round trips, and a stopped server would
 * hold them for its 25 s timeout. So libnotify's proxy, its signals and every
 * notify_* call live on one thread with its own GMainContext. The caller's
 * thread only queues requests, at most one per notification, where a newer
 * text replaces an older one still waiting, and gets actions, closes and
 * replies back on its own context. Before each call the thread asks the server
 * for its capabilities without a timeout: while the server is stopped the
 * thread waits there, before taking a request, so the text it sends once the
 * server answers is the latest one, and libnotify's own calls do not time out
 * on a server that merely paused (a timed-out Notify may still show later, with
 * an id nobody knows).
 */
#define G_LOG_DOMAIN "smoothtask-notifier"

#include "config.h"

#include "st-notifier.h"

#include <libnotify/notify.h>

#define NOTIFY_NAME  "org.freedesktop.Notifications"
#define NOTIFY_PATH  "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"
/* Forgotten notifications still on screen that close_all withdraws; older
 * ones are left to expire, so that nothing grows. */
#define RETIRED_MAX 16
/* How long st_notifier_free() waits for the thread before leaving it. */
#define JOIN_TIMEOUT_US (G_USEC_PER_SEC)

typedef struct {
  StNotificationText text;
  GStrv actions;
  gboolean transient;
  StNotifierSentFunc sent;
  gpointer sent_data;
} Request;

/* What the caller asked of one notification since the thread last looked,
 * applied in this order: close, show, forget. */
typedef struct {
  guint slot;
  char *key;
  gboolean close;
  Request *show;
  gboolean forget;
} Op;

typedef struct _Shared Shared;

/* The notifier thread's side of one notification. A key's slot lasts until
 * st_notifier_close() or st_notifier_forget(); the next show takes a new one. */
typedef struct {
  Shared *sh;
  guint id;
  char *key;
  NotifyNotification *n;
  gboolean retired; /* forgotten, but still on screen */
} Slot;

struct _Shared {
  gatomicrefcount ref;
  char *app_name;
  char *desktop_entry;
  GMainContext *main_ctx; /* the creator's: events are delivered there */
  GMainContext *ctx;      /* the notifier thread's */
  GCancellable *cancellable;
  int server_present; /* atomic */

  GMutex lock; /* guards what follows, up to the thread's own fields */
  GCond cond;
  GHashTable *ops; /* slot -> Op */
  GQueue queue;    /* Op, in arrival order */
  gboolean wake_pending;
  guint close_all_asked, close_all_done;
  gboolean quit, exited;

  /* The notifier thread's own. */
  GMainLoop *loop;
  GDBusConnection *bus;
  guint watch_id;
  gboolean has_actions;
  gboolean bus_down_logged, no_server_logged;
  gboolean processing;
  GHashTable *slots; /* slot -> Slot */
  GQueue retired;    /* Slot */

  /* The creator's thread only. */
  StNotifier *owner; /* NULL once freed: late events are dropped */
};

struct _StNotifier {
  Shared *sh;
  GThread *thread;
  GHashTable *live; /* key -> slot */
  guint next_slot;
  StNotifierActionFunc action_func;
  gpointer action_data;
  StNotifierClosedFunc closed_func;
  gpointer closed_data;
};

typedef enum { REACH_SERVER, REACH_NO_SERVER, REACH_NO_BUS } Reach;

static Shared *
shared_ref(Shared *sh)
{
  g_atomic_ref_count_inc(&sh->ref);
  return sh;
}

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
op_free(Op *op)
{
  request_free(op->show);
  g_free(op->key);
  g_free(op);
}

static void
shared_unref(gpointer p)
{
  Shared *sh = p;

  if (!g_atomic_ref_count_dec(&sh->ref))
    return;
  g_queue_clear_full(&sh->queue, (GDestroyNotify)op_free);
  g_hash_table_unref(sh->ops);
  g_hash_table_unref(sh->slots);
  g_main_context_unref(sh->ctx);
  g_main_context_unref(sh->main_ctx);
  g_object_unref(sh->cancellable);
  g_mutex_clear(&sh->lock);
  g_cond_clear(&sh->cond);
  g_free(sh->app_name);
  g_free(sh->desktop_entry);
  g_free(sh);
}

/* --- events, delivered on the creator's context ------------------------- */

typedef enum { EVENT_ACTION, EVENT_CLOSED, EVENT_SENT } EventKind;

typedef struct {
  Shared *sh;
  EventKind kind;
  char *key;
  char *action;
  guint reason;
  gboolean accepted;
  StNotifierSentFunc sent;
  gpointer sent_data;
} Event;

static void
event_free(gpointer p)
{
  Event *ev = p;
  shared_unref(ev->sh);
  g_free(ev->key);
  g_free(ev->action);
  g_free(ev);
}

static gboolean
deliver_event(gpointer data)
{
  Event *ev = data;
  StNotifier *self = ev->sh->owner;

  if (self == NULL)
    return G_SOURCE_REMOVE;
  if (ev->kind == EVENT_ACTION && self->action_func != NULL)
    self->action_func(ev->key, ev->action, self->action_data);
  else if (ev->kind == EVENT_CLOSED && self->closed_func != NULL)
    self->closed_func(ev->key, ev->reason, self->closed_data);
  else if (ev->kind == EVENT_SENT)
    ev->sent(ev->accepted, ev->sent_data);
  return G_SOURCE_REMOVE;
}

static void
post_event(Shared *sh, EventKind kind, const char *key, const char *action, guint reason)
{
  Event *ev = g_new0(Event, 1);

  ev->sh = shared_ref(sh);
  ev->kind = kind;
  ev->key = g_strdup(key);
  ev->action = g_strdup(action);
  ev->reason = reason;
  g_main_context_invoke_full(sh->main_ctx, G_PRIORITY_DEFAULT, deliver_event, ev, event_free);
}

static void
post_sent(Shared *sh, const Request *req, gboolean accepted)
{
  Event *ev;

  if (req->sent == NULL)
    return;
  ev = g_new0(Event, 1);
  ev->sh = shared_ref(sh);
  ev->kind = EVENT_SENT;
  ev->accepted = accepted;
  ev->sent = req->sent;
  ev->sent_data = req->sent_data;
  g_main_context_invoke_full(sh->main_ctx, G_PRIORITY_DEFAULT, deliver_event, ev, event_free);
}

/* --- the notifier thread -------------------------------------------------- */

static void
slot_drop_notification(Slot *slot)
{
  if (slot->n == NULL)
    return;
  g_signal_handlers_disconnect_by_data(slot->n, slot);
  g_clear_object(&slot->n);
}

static void
slot_free(gpointer p)
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
  post_event(slot->sh, EVENT_ACTION, slot->key, action, 0);
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
    post_event(sh, EVENT_CLOSED, slot->key, NULL, reason);
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
    post_sent(sh, op->show, shown);
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
static gboolean
thread_process(gpointer data)
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
      op_free(op);
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

static gpointer
notifier_thread(gpointer data)
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
  shared_unref(sh);
  return NULL;
}

/* --- the caller's side ----------------------------------------------------- */

static void
wake_locked(Shared *sh)
{
  if (sh->wake_pending)
    return;
  sh->wake_pending = TRUE;
  g_main_context_invoke_full(sh->ctx, G_PRIORITY_DEFAULT, thread_process, shared_ref(sh),
                             shared_unref);
}

static Op *
op_get_locked(Shared *sh, guint slot, const char *key)
{
  Op *op = g_hash_table_lookup(sh->ops, GUINT_TO_POINTER(slot));

  if (op == NULL) {
    op = g_new0(Op, 1);
    op->slot = slot;
    op->key = g_strdup(key);
    g_hash_table_insert(sh->ops, GUINT_TO_POINTER(slot), op);
    g_queue_push_tail(&sh->queue, op);
  }
  return op;
}

/* Requests that will never be sent, answered outside the lock. */
static void
requests_dropped(GPtrArray *dropped)
{
  for (guint i = 0; i < dropped->len; i++) {
    Request *req = g_ptr_array_index(dropped, i);
    if (req->sent != NULL)
      req->sent(FALSE, req->sent_data);
    request_free(req);
  }
}

StNotifier *
st_notifier_new(const char *app_name, const char *desktop_entry)
{
  StNotifier *self = g_new0(StNotifier, 1);
  Shared *sh = g_new0(Shared, 1);

  g_atomic_ref_count_init(&sh->ref);
  sh->app_name = g_strdup(app_name != NULL && app_name[0] != '\0' ? app_name : "SmoothTask");
  sh->desktop_entry = g_strdup(desktop_entry);
  sh->main_ctx = g_main_context_ref_thread_default();
  sh->ctx = g_main_context_new();
  sh->cancellable = g_cancellable_new();
  g_mutex_init(&sh->lock);
  g_cond_init(&sh->cond);
  sh->ops = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_queue_init(&sh->queue);
  sh->slots = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, slot_free);
  g_queue_init(&sh->retired);
  sh->owner = self;
  self->sh = sh;
  self->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->thread = g_thread_new("st-notifier", notifier_thread, shared_ref(sh));
  return self;
}

void
st_notifier_free(StNotifier *self)
{
  Shared *sh;
  gint64 deadline = g_get_monotonic_time() + JOIN_TIMEOUT_US;
  gboolean exited;

  if (self == NULL)
    return;
  sh = self->sh;
  sh->owner = NULL;
  g_mutex_lock(&sh->lock);
  sh->quit = TRUE;
  g_queue_clear_full(&sh->queue, (GDestroyNotify)op_free);
  g_hash_table_remove_all(sh->ops);
  wake_locked(sh);
  g_mutex_unlock(&sh->lock);
  g_cancellable_cancel(sh->cancellable);

  g_mutex_lock(&sh->lock);
  while (!sh->exited && g_cond_wait_until(&sh->cond, &sh->lock, deadline))
    ;
  exited = sh->exited;
  g_mutex_unlock(&sh->lock);
  if (exited) {
    g_thread_join(self->thread);
  } else {
    /* Inside a libnotify call to a hung server: it ends on its own. */
    g_debug("Leaving the notifier thread to finish on its own");
    g_thread_unref(self->thread);
  }
  g_hash_table_unref(self->live);
  shared_unref(sh);
  g_free(self);
}

void
st_notifier_set_action_func(StNotifier *self, StNotifierActionFunc func, gpointer data)
{
  self->action_func = func;
  self->action_data = data;
}

void
st_notifier_set_closed_func(StNotifier *self, StNotifierClosedFunc func, gpointer data)
{
  self->closed_func = func;
  self->closed_data = data;
}

gboolean
st_notifier_has_server(StNotifier *self)
{
  return g_atomic_int_get(&self->sh->server_present);
}

void
st_notifier_show(StNotifier *self, const char *key, const StNotificationText *text,
                 const char *const *actions, gboolean transient, StNotifierSentFunc sent,
                 gpointer sent_data)
{
  Request *req = g_new0(Request, 1);
  Request *dropped;
  gpointer slot;
  Op *op;

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

  if (!g_hash_table_lookup_extended(self->live, key, NULL, &slot)) {
    slot = GUINT_TO_POINTER(++self->next_slot);
    g_hash_table_insert(self->live, g_strdup(key), slot);
  }
  g_mutex_lock(&self->sh->lock);
  op = op_get_locked(self->sh, GPOINTER_TO_UINT(slot), key);
  dropped = g_steal_pointer(&op->show);
  op->show = req;
  wake_locked(self->sh);
  g_mutex_unlock(&self->sh->lock);
  if (dropped != NULL && dropped->sent != NULL)
    dropped->sent(FALSE, dropped->sent_data);
  request_free(dropped);
}

/* Queues a close of key's slot (a show still waiting loses) and ends it. */
static void
close_locked(StNotifier *self, guint slot, const char *key, GPtrArray *dropped)
{
  Op *op = op_get_locked(self->sh, slot, key);

  if (op->show != NULL)
    g_ptr_array_add(dropped, g_steal_pointer(&op->show));
  op->close = TRUE;
  op->forget = TRUE;
}

void
st_notifier_close(StNotifier *self, const char *key)
{
  g_autoptr(GPtrArray) dropped = g_ptr_array_new();
  gpointer slot;

  if (!g_hash_table_lookup_extended(self->live, key, NULL, &slot))
    return;
  g_mutex_lock(&self->sh->lock);
  close_locked(self, GPOINTER_TO_UINT(slot), key, dropped);
  wake_locked(self->sh);
  g_mutex_unlock(&self->sh->lock);
  g_hash_table_remove(self->live, key);
  requests_dropped(dropped);
}

void
st_notifier_forget(StNotifier *self, const char *key)
{
  gpointer slot;

  if (!g_hash_table_lookup_extended(self->live, key, NULL, &slot))
    return;
  g_mutex_lock(&self->sh->lock);
  op_get_locked(self->sh, GPOINTER_TO_UINT(slot), key)->forget = TRUE;
  wake_locked(self->sh);
  g_mutex_unlock(&self->sh->lock);
  g_hash_table_remove(self->live, key);
}

void
st_notifier_close_all(StNotifier *self, guint timeout_ms)
{
  g_autoptr(GPtrArray) dropped = g_ptr_array_new();
  Shared *sh = self->sh;
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  GHashTableIter iter;
  gpointer k, v;
  guint asked;

  g_mutex_lock(&sh->lock);
  /* Forgotten slots with a show still waiting: that show must not appear. */
  for (GList *l = sh->queue.head; l != NULL; l = l->next) {
    Op *op = l->data;
    if (op->show != NULL)
      g_ptr_array_add(dropped, g_steal_pointer(&op->show));
    op->close = TRUE;
  }
  g_hash_table_iter_init(&iter, self->live);
  while (g_hash_table_iter_next(&iter, &k, &v))
    close_locked(self, GPOINTER_TO_UINT(v), k, dropped);
  asked = ++sh->close_all_asked;
  wake_locked(sh);
  while ((gint)(sh->close_all_done - asked) < 0 && !sh->exited &&
         g_cond_wait_until(&sh->cond, &sh->lock, deadline))
    ;
  if ((gint)(sh->close_all_done - asked) < 0)
    g_message("Notifications not all withdrawn within %u ms", timeout_ms);
  g_mutex_unlock(&sh->lock);
  g_hash_table_remove_all(self->live);
  requests_dropped(dropped);
}
