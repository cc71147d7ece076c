/* st-arming.h: when to count syscalls.
 *
 * Counting costs every syscall and every context switch of the machine, to
 * feed an alert that rarely fires. A process cannot make syscalls without
 * spending time in the kernel, and the task iterator sees that time for
 * free: a process making R syscalls/s spends at least R x c in the kernel,
 * c the kernel time of the cheapest syscall (measured at start). So the
 * hooks are attached when some process, or the system as a whole, spends
 * half of what its threshold needs (threshold x c / 2) in the kernel, and
 * detached after a calm period with no syscall alert active.
 *
 * Pure: the caller measures c, reads the clock and attaches the hooks.
 */
#pragma once

#include "st-snapshot.h"

G_BEGIN_DECLS

typedef enum {
  ST_COUNTING_ON_DEMAND,
  ST_COUNTING_ALWAYS,
  ST_COUNTING_OFF,
} StCountingMode;

#define ST_ARMING_CALM_US (30 * G_USEC_PER_SEC)

typedef struct {
  StCountingMode mode;
  gdouble syscall_cost_ns;   /* kernel time of the cheapest syscall */
  gdouble process_threshold; /* syscalls/s; 0: no such alert */
  gdouble system_threshold;  /* syscalls/s of the system (or of one application); 0: none */
  gint64 armed_until_us;     /* state: stay armed until then */
} StArming;

/* When to count bytes per process on IP sockets. The system's interface
 * counters are free: the network hooks are attached while all traffic
 * (loopback counted both ways, as a process sending to another on the same
 * machine is charged for both) is at half the lowest per-program threshold,
 * or a network alert is active, and detached after a calm period; the
 * agent always passes ST_COUNTING_ON_DEMAND (syscall-counting is about
 * the syscall hooks; --dump attaches these for its own interval). */
typedef struct {
  gdouble threshold;     /* bytes/s of one process or application; 0: no such alert */
  gint64 armed_until_us; /* state */
} StNetArming;

gboolean st_net_arming_update(StNetArming *self, StCountingMode mode, const StSnapshot *snap,
                              guint n_network_alerts, gint64 now_us);

gboolean st_counting_mode_from_string(const char *s, StCountingMode *out);
/* Whether the system's kernel time leaves room for one process to spend
 * what arming needs: then the processes must be read to know which. */
gboolean st_arming_needs_processes(const StArming *self, const StSnapshot *snap);

/* When a sample reads the processes (st_collector_sample_processes()),
 * and when the next sample comes. Busy (an alert pending or firing, hooks
 * attached, a PSI trigger, an OOM kill to name, a system figure that leaves
 * a program within reach of a threshold): every sample reads them, one
 * interval apart. Calm: the processes are read by the first sample
 * ST_CALM_REFRESH_S or more after the last read (for what no bound covers:
 * the memory of an application, a sum of its processes' RSS; and to keep
 * the table current): every 10 s at the default interval, every other
 * calm sample, 12 s, when those are spaced out (st_calm_interval_s()). */
#define ST_CALM_REFRESH_S 10
/* A calm sample only watches for something to come within reach, and no
 * alert fires before its sustain: spacing calm samples by a fifth of the
 * sustain, at least one interval and at most ST_CALM_MAX_INTERVALS (so that
 * a short interval keeps its meaning), delays an alert by at most one
 * spacing (defaults: 6 s, on a 30 s sustain), and a syscall storm, counted
 * from the sample after the one that saw its kernel time, by at most one
 * spacing and one interval. Two
 * things skip the sustain: critical memory, so the interval is kept while
 * memory climbs fast enough to get there within a calm spacing; and a PSI
 * trigger, which wakes the agent at once. An OOM kill is told at the next
 * sample, up to the spacing after it. */
#define ST_CALM_SUSTAIN_SHARE 5
#define ST_CALM_MAX_INTERVALS 3
typedef struct {
  guint interval_s;        /* of the samples while busy */
  guint sustain_s;         /* of the alerts */
  gdouble memory_critical; /* percent of RAM in use; 0: no such alert */
  gint64 last_read_us;     /* state: when the processes were last read; 0: never */
  gint64 last_us;          /* state: the last sample's time; 0: none */
  gdouble last_memory;     /* state: its memory in use, percent */
  gboolean climbing;       /* state: memory climbs towards memory_critical */
} StCalm;

gboolean st_calm_needs_processes(StCalm *self, gboolean busy, gint64 now_us);
/* Each sample at @now_us: its percent of RAM in use (NAN: unknown). */
void st_calm_observe(StCalm *self, gdouble memory, gint64 now_us);
/* Seconds to the next sample (after a sample, or on a change of settings). */
guint st_calm_interval_s(const StCalm *self, gboolean busy);
/* Whether the counting hooks should be attached after this sample. */
gboolean st_arming_update(StArming *self, const StSnapshot *snap, guint n_syscall_alerts,
                          gint64 now_us);

G_END_DECLS
