/* st-raw-sample.h: one reading of a backend, as plain data.
 *
 * Cumulative counters per process, as the kernel keeps them. Shared by the
 * backends that fill it and the pure code that decodes (st-task-records.c)
 * or folds it (st-accounting.c); it declares no function, so the pure core
 * never sees the backend interface or a file descriptor.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint32 pid;
  gint32 ppid; /* 0 when unknown */
  guint32 uid;
  guint64 start_time; /* backend-specific; only compared for equality */
  gchar comm[16];
  guint n_threads;
  /* Cumulative counters. "own" is what the process's threads did; the
   * "children" totals are what the kernel added when it reaped its children
   * (whole subtrees), which st-accounting.c charges once. */
  guint64 cpu_time_ns;
  guint64 cpu_children_ns;
  /* CLOCK_MONOTONIC when this process was read, when a backend reads
   * processes one by one over a noticeable time (/proc): its rates are then
   * over its own interval. 0: the sample's time. */
  guint64 read_ns;
  /* How long it had been running when read; 0: unknown. */
  guint64 age_ns;
  guint64 stime_ns; /* of cpu_time_ns, the time spent in the kernel */
  guint64 rss_bytes;
  /* Valid when the sample's has_syscalls is set. */
  guint64 syscalls;
  guint64 syscalls_children;
  /* The process has exited (a zombie not yet reaped) and its syscalls went
   * to its parent's syscalls_children already. */
  gboolean syscalls_settled;
  /* It has exited: a zombie its parent has not reaped. Its children were
   * reparented; it receives nothing any more. */
  gboolean exited;
  /* Bytes read from and written to storage, cumulative: the process's own
   * and, mixed in by the kernel, its reaped children's. Valid with has_io
   * (/proc/PID/io is readable only for one's own processes). */
  gboolean has_io;
  guint64 io_read_bytes;
  guint64 io_write_bytes;
  /* Bytes sent and received on IP sockets by its live threads while the
   * network hooks counted; valid with the sample's has_net. */
  guint64 net_bytes;
} StRawProcess;

typedef struct {
  GArray *procs; /* of StRawProcess */
  gboolean has_syscalls;
  gboolean has_net;       /* the network hooks are attached */
  guint64 syscalls_total; /* cumulative, all CPUs */
} StRawSample;

G_END_DECLS
