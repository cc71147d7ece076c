/* st-notifier.h: desktop notifications through libnotify.
 *
 * Turns finished text into notifications: one per alert key, updated in place
 * while the alert lives, closed or replaced by a recovery. libnotify's calls
 * are synchronous, so they all run on a notifier thread of their own: no call
 * here ever waits for the notification server (except st_notifier_close_all(),
 * bounded by its timeout). Without a session bus or a server it logs what it
 * would have shown. It does not decide whether to alert.
 *
 * Every function is called from the thread that created the notifier, and
 * every callback arrives on that thread's main context.
 */
#pragma once

#include <gio/gio.h>
#include "st-notification-text.h"

G_BEGIN_DECLS

typedef struct _StNotifier StNotifier;

/* action_id is one of the ids passed to st_notifier_show(); "default" is a
 * click on the notification's body. Only the notification server's own
 * signals reach this. */
typedef void (*StNotifierActionFunc)(const char *key, const char *action_id, gpointer data);
/* The server closed key's notification: reason 1 expired, 2 dismissed by the
 * user, 3 closed by a call, 4 undefined (as in the specification). Closes
 * asked for with st_notifier_close() are not reported. */
typedef void (*StNotifierClosedFunc)(const char *key, guint reason, gpointer data);
/* accepted: whether a server returned an id. */
typedef void (*StNotifierSentFunc)(gboolean accepted, gpointer data);

StNotifier *st_notifier_new(const char *app_name, const char *desktop_entry);
/* Does not withdraw shown notifications: st_notifier_close_all() does. */
void st_notifier_free(StNotifier *self);
void st_notifier_set_action_func(StNotifier *self, StNotifierActionFunc func, gpointer data);
void st_notifier_set_closed_func(StNotifier *self, StNotifierClosedFunc func, gpointer data);
/* actions: NULL-terminated pairs of id and label; dropped when the server
 * cannot show actions. A newer show of the same key replaces one that is still
 * queued (whose sent then reports FALSE). sent may be NULL. */
void st_notifier_show(StNotifier *self, const char *key, const StNotificationText *text,
                      const char *const *actions, gboolean transient, StNotifierSentFunc sent,
                      gpointer sent_data);
/* Withdraws the notification of key, even one whose show is still on its way;
 * the next show of key makes a new notification. */
void st_notifier_close(StNotifier *self, const char *key);
/* Forgets key's notification (it stays on screen) so that the next show makes
 * a new one. */
void st_notifier_forget(StNotifier *self, const char *key);
/* Withdraws every notification shown and waits, at most timeout_ms, until the
 * close calls have been answered: for a clean exit. */
void st_notifier_close_all(StNotifier *self, guint timeout_ms);
gboolean st_notifier_has_server(StNotifier *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StNotifier, st_notifier_free)

G_END_DECLS
