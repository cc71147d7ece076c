/* st-hook-switch.h: attaching and detaching a set of kernel hooks, off the
 * sample's path.
 *
 * The arming rooms decide when hooks are worth their cost; this carries the
 * decision out: attaching costs milliseconds, so it is done from an idle
 * callback after the sample, once, and a failure is logged and leaves the
 * hooks as they were.
 */
#pragma once

#include "st-collector.h"

G_BEGIN_DECLS

typedef gboolean (*StHookSetFunc)(StCollector *collector, gboolean on, GError **error);

typedef struct {
  StCollector *collector; /* borrowed */
  StHookSetFunc set;
  const char *what;   /* "counting system calls", for the log */
  const char *why_on; /* "the network is busy" */
  gboolean on;        /* attached now */
  gboolean want;
  guint source; /* the idle that will apply want */
} StHookSwitch;

/* The hooks are attached now (on) or not. */
void st_hook_switch_init(StHookSwitch *self, StCollector *collector, StHookSetFunc set,
                         const char *what, const char *why_on, gboolean on);
/* Attaches or detaches the hooks soon, when want differs from now. */
void st_hook_switch_want(StHookSwitch *self, gboolean want);
/* Detaches them now, quietly: the start, before the first sample. */
void st_hook_switch_start_off(StHookSwitch *self);
void st_hook_switch_clear(StHookSwitch *self);

G_END_DECLS
