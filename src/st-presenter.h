/* st-presenter.h: an incident's notification and its buttons. Shows what
 * the incidents decided, with "Snooze", "Ignore" and "Open System Monitor"
 * buttons, remembers what each button acts on (the process may be gone by
 * the time the user clicks), and carries the user's answer to the settings
 * (snooze, ignore) or to the incidents (closed by the user). */
#pragma once

#include "st-incident.h"
#include "st-notifier.h"
#include "st-settings.h"

G_BEGIN_DECLS

typedef struct _StPresenter StPresenter;

/* Borrows the three; sets the notifier's action and closed callbacks. */
StPresenter *st_presenter_new(StNotifier *notifier, StSettings *settings, StIncidents *incidents);
void st_presenter_present(StPresenter *self, const StIncidentAction *a);
void st_presenter_free(StPresenter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StPresenter, st_presenter_free)

G_END_DECLS
