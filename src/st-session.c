/* st-session.c: the session bus and the agent's name (see the header). */
#define G_LOG_DOMAIN "smoothtask-session"

#include "st-session.h"

/* How often to look for a session bus that went away. */
#define BUS_RETRY_S 2

typedef enum { NAME_PENDING, NAME_OWNED, NAME_TAKEN } NameState;

struct _StSession {
  char *name;
  StSessionChangedFunc changed;
  StSessionLostFunc lost;
  gpointer data;
  GDBusConnection *bus; /* NULL without a session bus */
  guint name_id;
  gulong closed_id;
  guint reconnect_id;
  NameState state;
  gboolean started; /* the first connection was tried */
};

static void on_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
                      gpointer data);

StSession *
st_session_new(const char *name, StSessionChangedFunc changed, StSessionLostFunc lost,
               gpointer data)
{
  StSession *self = g_new0(StSession, 1);
  self->name = g_strdup(name);
  self->changed = changed;
  self->lost = lost;
  self->data = data;
  return self;
}

static void
on_name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
  StSession *self = data;
  self->state = NAME_OWNED;
}

static void
on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
  StSession *self = data;
  /* Lost with a live connection: another agent has it. With a dead one,
   * the bus went away: on_closed deals with that. */
  if (bus != NULL && !g_dbus_connection_is_closed(bus)) {
    if (self->state == NAME_OWNED) {
      g_message("Another SmoothTask took %s: leaving it the session", name);
      self->lost(self->data);
    }
    self->state = NAME_TAKEN;
  }
}

static void
drop(StSession *self)
{
  g_clear_handle_id(&self->name_id, g_bus_unown_name);
  if (self->bus != NULL)
    g_clear_signal_handler(&self->closed_id, self->bus);
  g_clear_object(&self->bus);
}

/* FALSE when another agent owns the name. */
static gboolean
connect(StSession *self)
{
  g_autoptr(GError) error = NULL;

  self->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error);
  if (self->bus == NULL) {
    if (!self->started)
      g_message("No session bus (%s): cannot check for another instance", error->message);
    return TRUE;
  }
  if (g_dbus_connection_is_closed(self->bus)) {
    g_clear_object(&self->bus);
    return TRUE;
  }
  /* A bus that goes away must not take the agent with it: it reconnects. */
  g_dbus_connection_set_exit_on_close(self->bus, FALSE);
  self->closed_id = g_signal_connect(self->bus, "closed", G_CALLBACK(on_closed), self);
  self->state = NAME_PENDING;
  self->name_id =
      g_bus_own_name_on_connection(self->bus, self->name, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                   on_name_acquired, on_name_lost, self, NULL);
  while (self->state == NAME_PENDING && !g_dbus_connection_is_closed(self->bus))
    g_main_context_iteration(NULL, TRUE);
  if (g_dbus_connection_is_closed(self->bus)) {
    drop(self);
    return TRUE;
  }
  return self->state != NAME_TAKEN;
}

gboolean
st_session_start(StSession *self)
{
  gboolean ours = connect(self);
  self->started = TRUE;
  return ours;
}

GDBusConnection *
st_session_get_bus(StSession *self)
{
  return self->bus;
}

static gboolean
try_reconnect(gpointer data)
{
  StSession *self = data;

  if (!connect(self)) {
    g_message("Another SmoothTask owns %s now: leaving it the session", self->name);
    self->reconnect_id = 0;
    self->lost(self->data);
    return G_SOURCE_REMOVE;
  }
  if (self->bus == NULL)
    return G_SOURCE_CONTINUE;
  g_message("Session bus back: %s owned again", self->name);
  self->reconnect_id = 0;
  self->changed(self->bus, self->data);
  return G_SOURCE_REMOVE;
}

static void
on_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error, gpointer data)
{
  StSession *self = data;

  g_message("The session bus went away (%s): reconnecting",
            error != NULL ? error->message : "closed");
  drop(self);
  self->changed(NULL, self->data);
  if (self->reconnect_id == 0)
    self->reconnect_id = g_timeout_add_seconds(BUS_RETRY_S, try_reconnect, self);
}

void
st_session_free(StSession *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id(&self->reconnect_id, g_source_remove);
  drop(self);
  g_free(self->name);
  g_free(self);
}
