/* st-oom.h: which of the user's programs the kernel killed for memory.
 *
 * /proc/vmstat's oom_kill counts every OOM kill of the machine (the global
 * OOM killer and memory-cgroup limits alike) and is readable by everyone.
 * When it grows, the victims are the user's processes that were listed in
 * the sample before and are gone now (or left with no memory: exiting),
 * largest first: the OOM killer picks by memory held (oom_score). A kill
 * whose victim is still listed waits one sample. A kill with no such
 * process (another user's, or one that lived less than a sample) is
 * logged, never shown as someone's. The counter is the machine's: on a
 * machine shared by several users, another user's kill in the same second
 * as a large process of this user's ending on its own would be taken for
 * this user's (docs/configuration.md says so).
 *
 * Pure: the caller reads the counter and the clock.
 */
#pragma once

#include "st-snapshot.h"

G_BEGIN_DECLS

#define ST_OOM_CANDIDATES 8

typedef struct {
  gint32 pid;
  guint64 start_time;
  guint32 uid;
  char comm[16];
  char *name; /* display name, owned */
  char *app_id;
  guint64 rss_bytes;
} StOomVictim;

typedef struct _StOomWatch StOomWatch;

StOomWatch *st_oom_watch_new(guint32 uid);
void st_oom_watch_free(StOomWatch *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StOomWatch, st_oom_watch_free)

/* After each sample: kills is the oom_kill counter (G_MAXUINT64: unknown).
 * Returns the victims found since the last call (an array of StOomVictim,
 * empty most of the time; free with g_array_unref), *unnamed the kills
 * none of the user's listed processes explains. */
GArray *st_oom_watch_update(StOomWatch *self, guint64 kills, const StSnapshot *snap,
                            guint *unnamed);
/* Whether this sample must read the processes for the watch: the counter
 * moved since the last update (or is new), or a kill waits for its victim
 * to leave the list. */
gboolean st_oom_watch_needs_processes(const StOomWatch *self, guint64 kills);
/* After a sample that did not read the processes, the counter unchanged:
 * a candidate that alive() says is gone exited on its own, and must not be
 * named for a kill counted later. */
typedef gboolean (*StOomAliveFunc)(gint32 pid);
void st_oom_watch_forget_exited(StOomWatch *self, StOomAliveFunc alive);

G_END_DECLS
