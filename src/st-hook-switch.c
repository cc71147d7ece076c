/* st-hook-switch.c: hooks on and off from an idle (see the header). */
#define G_LOG_DOMAIN "smoothtask-hook-switch"

#include "st-hook-switch.h"
#include "st-arming.h"

void
st_hook_switch_init(StHookSwitch *self, StCollector *collector, StHookSetFunc set, const char *what,
                    const char *why_on, gboolean on)
{
  self->collector = collector;
  self->set = set;
  self->what = what;
  self->why_on = why_on;
  self->on = self->want = on;
  self->source = 0;
}

static void
switch_to(StHookSwitch *self, gboolean want, gboolean tell)
{
  g_autoptr(GError) error = NULL;

  self->want = want;
  if (want == self->on)
    return;
  if (!self->set(self->collector, want, &error)) {
    g_warning("Cannot %s %s: %s", want ? "start" : "stop", self->what, error->message);
    return;
  }
  self->on = want;
  if (!tell)
    return;
  if (want)
    g_message("%c%s: %s", g_ascii_toupper(self->what[0]), self->what + 1, self->why_on);
  else
    g_message("Stopped %s: calm for %d s", self->what, (int)(ST_ARMING_CALM_US / G_USEC_PER_SEC));
}

static gboolean
apply(gpointer data)
{
  StHookSwitch *self = data;
  self->source = 0;
  switch_to(self, self->want, TRUE);
  return G_SOURCE_REMOVE;
}

void
st_hook_switch_want(StHookSwitch *self, gboolean want)
{
  self->want = want;
  if (want != self->on && self->source == 0)
    self->source = g_idle_add(apply, self);
}

void
st_hook_switch_clear(StHookSwitch *self)
{
  g_clear_handle_id(&self->source, g_source_remove);
}

void
st_hook_switch_start_off(StHookSwitch *self)
{
  switch_to(self, FALSE, FALSE);
}
