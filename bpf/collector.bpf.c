// SPDX-License-Identifier: GPL-2.0-or-later
/* collector.bpf.c: SmoothTask's kernel side.
 *
 * - on_sys_enter counts syscalls in a per-CPU slot: the system total, and
 *   the "pending" count of the task running on that CPU. on_switch moves
 *   the pending count into the task's task-local counter when it leaves the
 *   CPU; the iterator adds a running task's pending count from its CPU's
 *   slot. So the hot path, paid by every syscall of the machine, is one
 *   per-CPU array update; the per-task work is paid per context switch,
 *   which is far rarer. Kernels without bpf_map_lookup_percpu_elem (before
 *   5.19) use on_sys_enter_direct, which updates the task counter itself.
 *   Task storage is cheaper than a tgid hash and is freed with the task, so
 *   pid reuse can never inherit a count.
 * - on_task_exit folds an exiting thread's count into its group leader so that
 *   per-process totals survive thread churn, and charges a dead group's
 *   count, exactly once, to its parent.
 * - on_sock_send and on_sock_recv add the bytes of every send and receive
 *   on an IP socket (loopback too) to the calling thread's counter; like the
 *   syscall hooks they are attached only while the network is busy.
 * - iter_tasks_* emit one record per thread in a single read per sample; the
 *   two flavours differ only in the mm RSS counter layout, and user space
 *   loads exactly one of them (see st-collector-bpf.c for why).
 *
 * Must never: take a lock, loop unboundedly, or write anything but its maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "collector.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct st_task_counts);
} task_counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct st_cpu_counts);
} cpu_counts SEC(".maps");

/* Set by user space before load: the deferred scheme is in use. */
const volatile bool deferred = false;

SEC("tp_btf/sys_enter")
int
BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
  __u32 zero = 0;
  struct st_cpu_counts *c = bpf_map_lookup_elem(&cpu_counts, &zero);

  if (c) {
    c->total += 1;
    c->pending += 1;
  }
  return 0;
}

SEC("tp_btf/sys_enter")
int
BPF_PROG(on_sys_enter_direct, struct pt_regs *regs, long id)
{
  struct task_struct *task = bpf_get_current_task_btf();
  struct st_task_counts *counts;
  __u32 zero = 0;
  struct st_cpu_counts *c = bpf_map_lookup_elem(&cpu_counts, &zero);

  if (c)
    c->total += 1;
  counts = bpf_task_storage_get(&task_counts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (counts)
    counts->own += 1;
  return 0;
}

/* Bytes moved by the calling thread on an IP socket. The tracepoints fire
 * in sock_sendmsg and sock_recvmsg, in the caller's context, with the
 * length the call returned (Linux 6.3). */
static __always_inline int
count_net(struct sock *sk, int ret)
{
  struct st_task_counts *counts;
  __u16 family;

  if (ret <= 0 || !sk)
    return 0;
  family = sk->__sk_common.skc_family;
  if (family != ST_AF_INET && family != ST_AF_INET6)
    return 0;
  counts = bpf_task_storage_get(&task_counts, bpf_get_current_task_btf(), 0,
                                BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (counts)
    counts->net += ret;
  return 0;
}

SEC("tp_btf/sock_send_length")
int
BPF_PROG(on_sock_send, struct sock *sk, int ret, int flags)
{
  return count_net(sk, ret);
}

SEC("tp_btf/sock_recv_length")
int
BPF_PROG(on_sock_recv, struct sock *sk, int ret, int flags)
{
  /* A peek reads the same bytes again later. */
  if (flags & ST_MSG_PEEK)
    return 0;
  return count_net(sk, ret);
}

/* Moves this CPU's pending count to the task that made those syscalls. */
static __always_inline void
flush_pending(struct task_struct *task)
{
  __u32 zero = 0;
  struct st_cpu_counts *c = bpf_map_lookup_elem(&cpu_counts, &zero);
  struct st_task_counts *counts;

  if (!c || c->pending == 0)
    return;
  counts = bpf_task_storage_get(&task_counts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (counts)
    counts->own += c->pending;
  c->pending = 0;
}

SEC("tp_btf/sched_switch")
int
BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
  flush_pending(prev);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int
BPF_PROG(on_task_exit, struct task_struct *p)
{
  struct task_struct *task = bpf_get_current_task_btf();
  struct task_struct *leader = task->group_leader;
  struct task_struct *parent;
  struct st_task_counts *mine, *lead, *pc;
  __u64 contrib = 0, up;

  if (deferred)
    flush_pending(task);

  mine = bpf_task_storage_get(&task_counts, task, 0, 0);
  if (mine)
    contrib = mine->own;
  /* A group that never counted anything has nothing to charge: no storage
   * is made for it. */
  lead =
      bpf_task_storage_get(&task_counts, leader, 0, contrib ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
  if (!lead)
    return 0;
  if (contrib) {
    /* The leader's own count stays in its own record while it is listed. */
    if (task != leader)
      __sync_fetch_and_add(&lead->reaped, contrib);
    __sync_fetch_and_add(&lead->unsettled, contrib);
  }
  /* Threads exiting together may run this in any order after the group's
   * last thread left (signal->live is 0 for all of them by then): each
   * takes what is pending, so nothing is charged twice or lost. Processes
   * living less than one sample (a compiler storm) are still seen, as their
   * parent's. Their CPU time needs no hook: the kernel adds it to the
   * parent's signal->cutime/cstime when it reaps them. */
  if (BPF_CORE_READ(task, signal, live.counter) != 0)
    return 0;
  lead->settled = 1;
  up = __sync_lock_test_and_set(&lead->unsettled, 0);
  if (up == 0)
    return 0;
  parent = task->real_parent;
  if (!parent)
    return 0;
  pc = bpf_task_storage_get(&task_counts, parent->group_leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (pc) {
    __sync_fetch_and_add(&pc->child_syscalls, up);
    __sync_fetch_and_add(&pc->unsettled, up);
  }
  return 0;
}

/* Before Linux 6.2 (commit f1a7941243c1 "mm: convert mm's rss stats into
 * percpu_counter") the counters were an atomic array inside struct
 * mm_rss_stat. */
struct mm_rss_stat___old {
  atomic_long_t count[ST_NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct mm_struct___old {
  struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

struct mm_struct___new {
  struct percpu_counter rss_stat[ST_NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

static __always_inline __s64
clamp_pages(__s64 v)
{
  /* percpu_counter.count is the batched global value and may dip below 0. */
  return v < 0 ? 0 : v;
}

/* Takes the ctx fields as arguments: the verifier rejects a load through a
 * ctx pointer the compiler has offset, which inlining ctx->task here caused. */
static __always_inline int
emit(struct seq_file *seq, struct task_struct *task, __u64 rss_pages)
{
  struct task_struct *leader;
  struct st_task_counts *counts;
  struct st_task_rec rec = {};

  if (!task)
    return 0;
  leader = task->group_leader;
  rec.tid = task->pid;
  rec.tgid = task->tgid;
  rec.exec_ns = task->se.sum_exec_runtime;
  rec.stime_ns = task->stime;
  /* Direct loads through the iterator's trusted task pointer, not
   * probe reads: they are most of the cost of a record. */
  rec.start_time_ns = leader->start_time;
  __builtin_memcpy(rec.comm, leader->comm, sizeof(rec.comm));
  if (task == leader) {
    rec.flags |= ST_REC_LEADER;
    /* Exited (its children went to a reaper already): it receives nothing
     * any more. */
    if (task->exit_state != 0)
      rec.flags |= ST_REC_EXITED;
    rec.uid = task->real_cred->uid.val;
    rec.dead_exec_ns = task->signal->sum_sched_runtime;
    rec.stime_ns += task->signal->stime;
    rec.rss_pages = rss_pages;
    rec.ppid = task->real_parent->tgid;
    /* Reaped children, exact: the kernel's own sum of their runtime. */
    rec.child_exec_ns = task->signal->cutime + task->signal->cstime;
    rec.age_ns = bpf_ktime_get_ns() - leader->start_time;
  }
  if (deferred && task->on_cpu) {
    /* Running now: its latest syscalls are still in its CPU's slot. */
    __u32 zero = 0;
    struct st_cpu_counts *c = bpf_map_lookup_percpu_elem(&cpu_counts, &zero, task->thread_info.cpu);
    if (c)
      rec.syscalls += c->pending;
  }
  /* Storage I/O from the kernel's per-task accounting: read by the
   * iterator, so it costs no hook. */
  if (bpf_core_field_exists(task->ioac.read_bytes)) {
    rec.flags |= ST_REC_IO;
    rec.io_read = task->ioac.read_bytes;
    rec.io_write = task->ioac.write_bytes;
    if (task == leader) {
      rec.io_read += task->signal->ioac.read_bytes;
      rec.io_write += task->signal->ioac.write_bytes;
    }
  }
  counts = bpf_task_storage_get(&task_counts, task, 0, 0);
  if (counts) {
    rec.net = counts->net;
    rec.syscalls += counts->own + counts->reaped;
    if (task == leader) {
      rec.child_syscalls = counts->child_syscalls;
      if (counts->settled)
        rec.flags |= ST_REC_SETTLED;
    }
  }
  bpf_seq_write(seq, &rec, sizeof(rec));
  return 0;
}

SEC("iter/task")
int
iter_tasks_pcpu(struct bpf_iter__task *ctx)
{
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  struct mm_struct___new *mm;
  __u64 pages = 0;

  if (task && task == task->group_leader && task->mm) {
    mm = (void *)task->mm;
    pages = clamp_pages(mm->rss_stat[ST_MM_FILEPAGES].count) +
            clamp_pages(mm->rss_stat[ST_MM_ANONPAGES].count) +
            clamp_pages(mm->rss_stat[ST_MM_SHMEMPAGES].count);
  }
  return emit(seq, task, pages);
}

SEC("iter/task")
int
iter_tasks_atomic(struct bpf_iter__task *ctx)
{
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  struct mm_struct___old *mm;
  __u64 pages = 0;

  if (task && task == task->group_leader && task->mm) {
    mm = (void *)task->mm;
    pages = clamp_pages(BPF_CORE_READ(mm, rss_stat.count[ST_MM_FILEPAGES].counter)) +
            clamp_pages(BPF_CORE_READ(mm, rss_stat.count[ST_MM_ANONPAGES].counter)) +
            clamp_pages(BPF_CORE_READ(mm, rss_stat.count[ST_MM_SHMEMPAGES].counter));
  }
  return emit(seq, task, pages);
}
