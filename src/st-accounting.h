/* st-accounting.h: two readings of cumulative counters -> what each process
 * did in the interval, charging every unit of work exactly once.
 *
 * Pure: no I/O, no clock. The kernel adds a child's whole CPU time (and the
 * BPF exit hook its syscalls) to its parent when the child is reaped (or,
 * for syscalls, when it exits), including everything the child had itself
 * received from its own children. A process that was listed and has gone
 * was shown up to its last reading: that reading is taken back from the
 * listed process that received it, which is its nearest listed ancestor,
 * or, when its parent died first and it was reparented, a listed ancestor
 * higher up (a subreaper or init). The one that received it is the one whose
 * children total grew by at least that much; one that did not is never
 * charged. A pass reads processes one after another, a parent before its
 * children: a child reaped between the two is missing while its parent's
 * total has not grown yet. Its settlement waits for the next sample then,
 * when the growth shows. So wrappers, zombies, double forks, subreapers, threads exiting
 * together and pid reuse never make a process look busier than it was.
 */
#pragma once

#include "st-raw-sample.h"
#include "st-snapshot.h"

G_BEGIN_DECLS

/* What the collector keeps of a process between samples. */
typedef struct {
  guint64 start_time;
  gint32 ppid;
  guint n_threads;
  /* Bases: the largest reading seen. A thread's time moves to its group's
   * exited-threads total when it exits, and one iterator pass can see it in
   * neither place; a dip must not become a later spike. */
  guint64 cpu_own_ns;
  guint64 cpu_children_ns;
  guint64 stime_ns;
  guint64 read_ns; /* when it was last read, 0 when at the sample's time */
  guint64 syscalls_own;
  guint64 syscalls_children;
  gboolean syscalls_settled; /* charged to its parent already (BPF exit hook) */
  gboolean has_io;           /* the I/O bases below are readings */
  guint64 io_read;
  guint64 io_write;
  guint64 net; /* bytes on IP sockets, live threads */
  char *display_name;
  char *app_id;
  char *exe;     /* the executable's path, or NULL when unreadable */
  guint age;     /* reads it was listed in (more when it was settled at the first) */
  gboolean seen; /* in the reading being folded */
} StCollectorPrev;

/* Looks up what a new process is called and runs (skipped when
 * display_name is NULL) and which application it belongs to; called once
 * per process, not per sample, but for the application during the first
 * reads of a young process. */
typedef void (*StNameResolver)(gint32 pid, const char *comm, char **display_name, char **exe,
                               char **app_id, gpointer data);

/* What is kept between samples: the processes last listed (pid ->
 * StCollectorPrev) and the settlements not yet placed. */
typedef struct _StAccounts StAccounts;

StAccounts *st_accounts_new(void);
void st_accounts_free(StAccounts *self);
/* Forgets everything: the next fold starts afresh. */
void st_accounts_reset(StAccounts *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StAccounts, st_accounts_free)

/* Folds a raw reading into snap (its processes; snap->n_cpus must be set)
 * and updates accounts. have_prev: accounts hold the reading interval_ns
 * earlier. */
void st_collector_fold(StAccounts *accounts, gboolean have_prev, const StRawSample *raw,
                       guint64 interval_ns, StNameResolver resolve, gpointer resolve_data,
                       StSnapshot *snap);

G_END_DECLS
