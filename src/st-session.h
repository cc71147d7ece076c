/* st-session.h: the session bus and the agent's name on it.
 *
 * One agent per session: the name org.smoothtask.Agent, owned without
 * queueing. A bus that goes away (a restarting dbus-daemon, a logout that
 * leaves the agent) does not take the agent with it: it is looked for again
 * every 2 s, the name taken again, and the owner told with changed(); an
 * agent that finds the name taken by another leaves it the session.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _StSession StSession;

/* The bus went away (bus NULL) or came back. */
typedef void (*StSessionChangedFunc)(GDBusConnection *bus, gpointer data);
/* Another agent owns the name now: this one should end. */
typedef void (*StSessionLostFunc)(gpointer data);

StSession *st_session_new(const char *name, StSessionChangedFunc changed, StSessionLostFunc lost,
                          gpointer data);
/* Connects and owns the name, waiting for the answer (nothing else runs
 * yet). FALSE when another agent owns it; TRUE also without a bus. */
gboolean st_session_start(StSession *self);
/* The connection, or NULL without a bus. */
GDBusConnection *st_session_get_bus(StSession *self);
void st_session_free(StSession *self);

G_END_DECLS
