/* st-hooks.h: alerts for other programs.
 *
 * Publishes each raised and cleared alert as a D-Bus signal on
 * org.smoothtask.Agent1 (data/org.smoothtask.Agent1.xml) with the latest
 * system figures as properties, and runs the user's alert-command, without a
 * shell, under a time limit. A failing command is logged and changes nothing
 * else. Neither decides anything.
 */
#pragma once

#include <gio/gio.h>
#include "st-engine.h"
#include "st-format.h"

G_BEGIN_DECLS

typedef struct _StHooks StHooks;

/* bus may be NULL (no session bus): only the command runs then. */
StHooks *st_hooks_new(GDBusConnection *bus);
void st_hooks_free(StHooks *self);
/* Exports the interface on bus (NULL: nowhere), leaving the previous one. */
void st_hooks_set_bus(StHooks *self, GDBusConnection *bus);
void st_hooks_set_command(StHooks *self, char **argv);
void st_hooks_alert(StHooks *self, const StDecision *d, const StNotificationText *text);
void st_hooks_sample(StHooks *self, const StSnapshot *snap, guint active_alerts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StHooks, st_hooks_free)

G_END_DECLS
