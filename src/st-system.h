/* st-system.h: the machine's own figures, from a few /proc files.
 *
 * CPU time (/proc/stat), memory (meminfo), pressure, whole disks
 * (diskstats), interfaces (net/dev) and the vmstat counters: everything a
 * sample knows without reading a single process, and so all a calm sample
 * reads. The files stay open and are read again from their start each time.
 */
#pragma once

#include "st-snapshot.h"

G_BEGIN_DECLS

typedef struct _StSystem StSystem;

/* proc_fd: the /proc directory, borrowed; proc_root: its path, for messages. */
StSystem *st_system_new(int proc_fd, const char *proc_root);
void st_system_free(StSystem *self);
/* The next sample is a baseline (after a suspend). */
void st_system_reset(StSystem *self);
/* Fills the system's figures of snap: its time, interval and CPU count, CPU,
 * memory, swap, pressure, disks, network, the OOM counter and the bounds on
 * programs. The first sample after new or reset gives no rates (NAN). */
gboolean st_system_sample(StSystem *self, guint64 now_ns, StSnapshot *snap, GError **error);

/* Kernel time of the cheapest syscall on this machine, as a lower bound
 * (ns): what arming the syscall hooks is derived from. Takes ~15 ms. */
gdouble st_system_syscall_cost_ns(void);

G_END_DECLS
