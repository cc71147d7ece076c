/* st-app.h: the agent. Owns every room and wires the data path:
 * tick -> collector -> snapshot -> engine -> decisions -> notifier. */
#pragma once

#include <glib.h>
#include "st-collector.h"

G_BEGIN_DECLS

typedef struct _StApp StApp;

typedef struct {
  StBackendKind backend;
} StAppOptions;

StApp *st_app_new(const StAppOptions *options, GError **error);
/* Runs the main loop until SIGINT or SIGTERM; returns the exit status. */
int st_app_run(StApp *self);
void st_app_free(StApp *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StApp, st_app_free)

G_END_DECLS
