/* st-psi.h: the memory-stall (PSI) trigger that wakes the agent between
 * ticks. Knows nothing of samples or alerts: it calls back, that is all. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _StPsi StPsi;

/* A stall happened: the trigger's window saw more than its threshold. */
typedef void (*StPsiFunc)(gpointer data);

/* Arms a trigger on /proc/pressure/memory in the default main context.
 * NULL when the kernel or the user's rights allow none (logged at debug
 * level): memory pressure is then only sampled every interval. */
StPsi *st_psi_new(StPsiFunc func, gpointer data);
/* Watches @fd, already armed (or a stand-in that raises POLLPRI), and
 * takes it: closed when the kernel closes the trigger or on free. */
StPsi *st_psi_new_for_fd(int fd, StPsiFunc func, gpointer data);
/* FALSE once the kernel closed the trigger (POLLERR, POLLHUP). */
gboolean st_psi_is_armed(StPsi *self);
void st_psi_free(StPsi *self);

/* At most one sample a second for stalls: several events in one second are
 * one stall. Given the time since the last sample, how long to wait before
 * sampling for a stall: 0 is now. A stall within the second is kept and
 * sampled when the second is over, never dropped. */
#define ST_PSI_MIN_SPACING_US G_USEC_PER_SEC
gint64 st_psi_delay_us(gint64 since_last_sample_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StPsi, st_psi_free)

G_END_DECLS
