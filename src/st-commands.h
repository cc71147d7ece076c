/* st-commands.h: the one-shot commands of the command line. Each returns
 * the process's exit status. */
#pragma once

#include "st-collector.h"

G_BEGIN_DECLS

/* One sample alert through the real formatter and notifier: 0 when a
 * server accepted it, 1 when none did within 15 s. */
int st_command_test_notification(void);
/* Two samples interval_s apart; prints the second as a table or JSON with
 * the top processes (0: all). */
int st_command_dump(StBackendKind kind, gdouble interval_s, gboolean json, guint top);

G_END_DECLS
