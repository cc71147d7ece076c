/* st-notifier-thread.h: what the notifier's two sides share; private to them.
 *
 * st-notifier.c is the caller's side: it queues requests under the lock and
 * delivers events on the creator's context. st-notifier-thread.c is the
 * notifier thread: libnotify, the server and the bus. Nothing else includes
 * this header.
 */
#pragma once

#include <gio/gio.h>
#include "st-notifier.h"

G_BEGIN_DECLS

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
  GHashTable *slots; /* slot -> Slot, of st-notifier-thread.c */
  GQueue retired;    /* Slot */

  /* The creator's thread only. */
  StNotifier *owner; /* NULL once freed: late events are dropped */
};

typedef enum { EVENT_ACTION, EVENT_CLOSED, EVENT_SENT } EventKind;

/* st-notifier.c: the shared state's life and the events. */
void st_notifier_shared_unref(gpointer p);
void st_notifier_op_free(Op *op);
void st_notifier_post_event(Shared *sh, EventKind kind, const char *key, const char *action,
                            guint reason);
void st_notifier_post_sent(Shared *sh, const Request *req, gboolean accepted);

/* st-notifier-thread.c: the thread's body (given a reference to sh, which it
 * drops on exit), its wakeup (takes requests, oldest first) and the destroy
 * notify of sh->slots. */
gpointer st_notifier_thread_main(gpointer data);
gboolean st_notifier_thread_process(gpointer data);
void st_notifier_thread_slot_free(gpointer p);

G_END_DECLS
