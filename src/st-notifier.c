/* st-notifier.c: the caller's side of the notifier.
 *
 * libnotify's calls are synchronous round trips, so they all run on a
 * notifier thread of their own (st-notifier-thread.c). The caller's thread
 * only queues requests, at most one per notification, where a newer text
 * replaces an older one still waiting, and gets actions, closes and replies
 * back on its own context. Nothing here calls libnotify or the bus.
 */
#define G_LOG_DOMAIN "smoothtask-notifier"

#include "config.h"

#include "st-notifier-thread.h"

/* How long st_notifier_free() waits for the thread before leaving it. */
#define JOIN_TIMEOUT_US (G_USEC_PER_SEC)

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

void
st_notifier_op_free(Op *op)
{
  request_free(op->show);
  g_free(op->key);
  g_free(op);
}

void
st_notifier_shared_unref(gpointer p)
{
  Shared *sh = p;

  if (!g_atomic_ref_count_dec(&sh->ref))
    return;
  g_queue_clear_full(&sh->queue, (GDestroyNotify)st_notifier_op_free);
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
  st_notifier_shared_unref(ev->sh);
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

void
st_notifier_post_event(Shared *sh, EventKind kind, const char *key, const char *action,
                       guint reason)
{
  Event *ev = g_new0(Event, 1);

  ev->sh = shared_ref(sh);
  ev->kind = kind;
  ev->key = g_strdup(key);
  ev->action = g_strdup(action);
  ev->reason = reason;
  g_main_context_invoke_full(sh->main_ctx, G_PRIORITY_DEFAULT, deliver_event, ev, event_free);
}

void
st_notifier_post_sent(Shared *sh, const Request *req, gboolean accepted)
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

/* --- the caller's side ----------------------------------------------------- */

static void
wake_locked(Shared *sh)
{
  if (sh->wake_pending)
    return;
  sh->wake_pending = TRUE;
  g_main_context_invoke_full(sh->ctx, G_PRIORITY_DEFAULT, st_notifier_thread_process,
                             shared_ref(sh), st_notifier_shared_unref);
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
  sh->slots =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, st_notifier_thread_slot_free);
  g_queue_init(&sh->retired);
  sh->owner = self;
  self->sh = sh;
  self->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->thread = g_thread_new("st-notifier", st_notifier_thread_main, shared_ref(sh));
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
  g_queue_clear_full(&sh->queue, (GDestroyNotify)st_notifier_op_free);
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
  st_notifier_shared_unref(sh);
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
