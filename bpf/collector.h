/* collector.h: the records the BPF programs and user space exchange.
 * Fixed-width types only; included by both sides. */
#ifndef ST_BPF_COLLECTOR_H
#define ST_BPF_COLLECTOR_H

#define ST_COMM_LEN 16

/* MM counters, in the kernel's enum order (include/linux/mm_types_task.h). */
#define ST_MM_FILEPAGES   0
#define ST_MM_ANONPAGES   1
#define ST_MM_SHMEMPAGES  3
#define ST_NR_MM_COUNTERS 4

#define ST_REC_LEADER 0x1u /* this thread is its group's leader: rss, uid, dead_ns valid */
#define ST_REC_IO     0x4u /* io_read, io_write valid (task I/O accounting is built in) */
#define ST_REC_EXITED 0x8u /* leader only: the process has exited (a zombie not yet reaped) */

#define ST_AF_INET  2
#define ST_AF_INET6 10
#define ST_MSG_PEEK 2
#define ST_REC_SETTLED                                                                             \
  0x2u /* leader only: the group has exited and its syscalls,                                      \
        * with its children's, were charged to its parent */

/* Per-task syscall counters, kept in task-local storage. "own" is written
 * only by the task itself on its own CPU, so it needs no atomics on the hot
 * path; the others live in the group leader's storage and are only ever
 * updated atomically at exit. */
struct st_task_counts {
  __u64 own;
  /* Leader: syscalls of the group's threads that exited. */
  __u64 reaped;
  /* Leader: syscalls of children (whole processes) that exited, including
   * what their own children charged to them. */
  __u64 child_syscalls;
  /* Leader: what exited threads and children added and the parent has not
   * been charged yet; taken whole (exchange) by a thread that exits after the
   * group's last thread did, so every count goes up exactly once even when
   * threads exit together in any order. */
  __u64 unsettled;
  /* Leader: non-zero once the group is dead and its count went up. */
  __u64 settled;
  /* Bytes this thread sent and received on IP sockets while the network
   * hooks were attached; written only by the thread itself. */
  __u64 net;
};

/* Per CPU: every syscall made on it, and those of the task running on it
 * not yet moved to that task's counter. */
struct st_cpu_counts {
  __u64 total;
  __u64 pending;
};

/* One record per thread, written by the task iterator. 128 bytes. */
struct st_task_rec {
  __u32 tid;
  __u32 tgid;
  __u32 uid;
  __u32 flags;
  __u32 ppid; /* leader only: the parent process */
  __u32 pad;
  __u64 child_exec_ns;  /* leader only: signal->cutime + cstime (reaped children) */
  __u64 child_syscalls; /* leader only */
  __u64 start_time_ns;  /* group leader's start_time, CLOCK_MONOTONIC ns */
  __u64 exec_ns;        /* this thread's se.sum_exec_runtime */
  __u64 dead_exec_ns;   /* leader only: signal->sum_sched_runtime (exited threads) */
  __u64 rss_pages;      /* leader only: file + anon + shmem */
  __u64 syscalls;       /* own + reaped */
  /* Time in the kernel: task->stime (+ signal->stime of exited threads for
   * the leader). Sampled at ticks, but free: it tells when a syscall
   * threshold could be near, so that the counting hooks are attached only
   * then. */
  __u64 stime_ns;
  /* Bytes this thread caused to be read from and written to storage
   * (task->ioac); the leader's also hold signal->ioac, which the kernel
   * fills with exited threads' and reaped children's. */
  __u64 io_read;
  __u64 io_write;
  __u64 net; /* bytes on IP sockets, this thread, while counted */
  /* Leader only: how long the process has run, both ends read from the
   * kernel's clock (user space may see a time namespace's). */
  __u64 age_ns;
  char comm[ST_COMM_LEN]; /* the group leader's comm */
};

#endif
