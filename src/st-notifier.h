/* st-notifier.h: desktop notifications over org.freedesktop.Notifications.
 *
 * Turns finished text into notifications: one per alert key, updated in place
 * (replaces_id) while the alert lives, closed or replaced by a recovery. Every
 * call is asynchronous, so a hung or absent server never blocks the main
 * loop. Without a session bus it logs what it would have shown. It does not
 * decide whether to alert.
 */
#pragma once

#include <gio/gio.h>
#include "st-format.h"

G_BEGIN_DECLS

typedef struct _StNotifier StNotifier;

/* action_id is one of the ids passed to st_notifier_show(). */
typedef void (*StNotifierActionFunc)(const char *key, const char *action_id, gpointer data);
/* accepted: whether a server returned an id. */
typedef void (*StNotifierSentFunc)(gboolean accepted, gpointer data);

StNotifier *st_notifier_new(const char *app_name, const char *desktop_entry);
void st_notifier_free(StNotifier *self);
void st_notifier_set_action_func(StNotifier *self, StNotifierActionFunc func, gpointer data);
/* actions: NULL-terminated pairs of id and label; dropped when the server
 * cannot show actions. sent may be NULL. */
void st_notifier_show(StNotifier *self, const char *key, const StNotificationText *text,
                      const char *const *actions, gboolean transient, StNotifierSentFunc sent,
                      gpointer sent_data);
/* Withdraws the notification of key, if one is shown. */
void st_notifier_close(StNotifier *self, const char *key);
/* Forgets key's notification id so that the next show makes a new one. */
void st_notifier_forget(StNotifier *self, const char *key);
gboolean st_notifier_has_server(StNotifier *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StNotifier, st_notifier_free)

G_END_DECLS
