/* test-collector.c: both backends against the real kernel.
 *
 * Children with known behaviour (a CPU burner, a syscall loop, a memory
 * toucher) are measured by the collector and checked against the kernel's
 * own accounting in /proc. Run as root the BPF backend is tested too; run
 * unprivileged (tests/run-unprivileged.sh) the BPF cases skip, saying why,
 * and the /proc backend must still pass.
 */
#define _GNU_SOURCE
#include "collector-or-skip.h"
#include "st-procfs-parse.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  pid_t pid;
  int ready_fd; /* child writes one byte when its work is done */
  int hold_fd;  /* child exits when this is closed */
} Child;

typedef void (*ChildWork)(void);

static void
burn_cpu(void)
{
  struct timespec ts;
  volatile guint64 x = 0;
  do {
    for (int i = 0; i < 100000; i++)
      x += (guint64)i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  } while (ts.tv_sec * 1000000000L + ts.tv_nsec < 1500000000L);
}

#define N_SYSCALLS 1000000

static void
make_syscalls(void)
{
  for (int i = 0; i < N_SYSCALLS; i++)
    syscall(SYS_getppid);
}

#define TOUCH_BYTES (256u * 1024 * 1024)

static void
touch_memory(void)
{
  char *p = g_malloc(TOUCH_BYTES);
  for (gsize i = 0; i < TOUCH_BYTES; i += 4096)
    p[i] = (char)i;
  /* Kept on purpose: the parent measures it. */
  g_atomic_pointer_set(&p, p);
}

#define N_SHORT 500

/* Where the spawner reports its children's and its own CPU time (ns). */
static int short_report_fd = -1;

static guint64
rusage_ns(int who)
{
  struct rusage ru;
  getrusage(who, &ru);
  return (guint64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
         (guint64)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

static void
spawn_short_lived(void)
{
  guint64 report[2];

  for (int i = 0; i < N_SHORT; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      struct timespec ts;
      do
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      while (ts.tv_nsec < 5000000 && ts.tv_sec == 0);
      _exit(0);
    }
    waitpid(pid, NULL, 0);
  }
  report[0] = rusage_ns(RUSAGE_CHILDREN);
  report[1] = rusage_ns(RUSAGE_SELF);
  if (write(short_report_fd, report, sizeof(report)) != sizeof(report))
    _exit(1);
}

static Child
child_start(ChildWork work)
{
  int ready[2], hold[2];
  Child c;
  char b = 1;

  g_assert_no_errno(pipe(ready));
  g_assert_no_errno(pipe(hold));
  c.pid = fork();
  g_assert_cmpint(c.pid, >=, 0);
  if (c.pid == 0) {
    close(ready[0]);
    close(hold[1]);
    work();
    if (write(ready[1], &b, 1) != 1)
      _exit(1);
    /* Blocks until the parent closes its end. */
    while (read(hold[0], &b, 1) > 0)
      ;
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  c.ready_fd = ready[0];
  c.hold_fd = hold[1];
  g_assert_cmpint(read(c.ready_fd, &b, 1), ==, 1);
  return c;
}

static void
child_stop(Child *c)
{
  int status;
  close(c->hold_fd);
  close(c->ready_fd);
  g_assert_cmpint(waitpid(c->pid, &status, 0), ==, c->pid);
  g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static guint64
now_ns(void)
{
  return (guint64)g_get_monotonic_time() * 1000;
}

static void
proc_pid_stat(pid_t pid, StPidStat *st)
{
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  g_assert_true(st_parse_pid_stat(text, len, st, NULL));
}

static const StProcess *
sample_and_find(StCollector *c, StSnapshot *snap, pid_t pid)
{
  g_autoptr(GError) error = NULL;
  const StProcess *p;
  g_assert_true(st_collector_sample(c, now_ns(), snap, &error));
  g_assert_no_error(error);
  p = st_snapshot_find(snap, pid);
  g_assert_nonnull(p);
  return p;
}

static void
test_cpu(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  const StProcess *p;
  StPidStat st;
  Child child;
  gdouble expect_ns, tick_ns = 1e9 / (gdouble)sysconf(_SC_CLK_TCK);

  if (c == NULL)
    return;
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  child = child_start(burn_cpu);
  p = sample_and_find(c, snap, child.pid);
  proc_pid_stat(child.pid, &st);
  expect_ns = (gdouble)(st.utime_ticks + st.stime_ticks) * tick_ns;
  g_test_message("burner: collector %.3f s, /proc utime+stime %.3f s, %.1f%% of one CPU",
                 (gdouble)p->cpu_time_ns / 1e9, expect_ns / 1e9, p->cpu_percent);
  g_assert_cmpfloat(expect_ns, >, 1.0e9);
  g_assert_cmpfloat((gdouble)p->cpu_time_ns, >=, expect_ns * 0.9);
  g_assert_cmpfloat((gdouble)p->cpu_time_ns, <=, expect_ns * 1.1);
  /* Born during the interval: its rate counts from zero. */
  g_assert_cmpfloat(p->cpu_percent, >, 0);
  g_assert_cmpfloat(p->cpu_percent, <=, 100.0 * 1.05 + 1);
  g_assert_true(st_value_available(snap->cpu_busy_percent));
  /* No program uses more than all CPUs were busy (st-figures.c). */
  g_test_message("all CPUs busy: %.1f%% of one", snap->cpu_busy_percent * snap->n_cpus);
  g_assert_cmpfloat(p->cpu_percent, <=, snap->cpu_busy_percent * snap->n_cpus * 1.02 + 1);
  child_stop(&child);
  /* Gone at the next sample, cleanly. */
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  g_assert_null(st_snapshot_find(snap, child.pid));
}

static void
test_syscalls(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  const StProcess *p;
  Child child;

  if (c == NULL)
    return;
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  child = child_start(make_syscalls);
  p = sample_and_find(c, snap, child.pid);
  if (kind == ST_BACKEND_PROC) {
    /* /proc cannot count them: unavailable, never 0. */
    g_assert_false(st_value_available(p->syscalls_per_s));
    g_assert_false(st_value_available(snap->syscalls_per_s));
  } else {
    g_test_message("syscall child: counted %" G_GUINT64_FORMAT " for %d getppid(), %.0f/s; "
                   "system %.0f/s",
                   p->syscalls, N_SYSCALLS, p->syscalls_per_s, snap->syscalls_per_s);
    g_assert_cmpuint(p->syscalls, >=, N_SYSCALLS);
    g_assert_cmpuint(p->syscalls, <=, N_SYSCALLS + N_SYSCALLS / 100);
    g_assert_cmpfloat(p->syscalls_per_s, >, 0);
    g_assert_cmpfloat(snap->syscalls_per_s, >=, p->syscalls_per_s);
  }
  child_stop(&child);
}

static void
test_memory(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autofree char *meminfo = NULL;
  const StProcess *p;
  StMemInfo mi;
  gsize len;
  Child child;

  if (c == NULL)
    return;
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  child = child_start(touch_memory);
  p = sample_and_find(c, snap, child.pid);
  {
    /* The kernel's own figure: under a sanitizer the child holds more than
     * what it touched, so compare with statm, and statm with the touch. */
    g_autofree char *path = g_strdup_printf("/proc/%d/statm", child.pid);
    g_autofree char *statm = NULL;
    guint64 resident;
    gdouble expect;
    g_assert_true(g_file_get_contents(path, &statm, &len, NULL));
    g_assert_true(st_parse_statm(statm, len, &resident, NULL));
    expect = (gdouble)resident * (gdouble)sysconf(_SC_PAGESIZE);
    g_test_message("memory child: RSS %" G_GUINT64_FORMAT " bytes, statm %.0f, %u touched",
                   p->rss_bytes, expect, TOUCH_BYTES);
    g_assert_cmpfloat(expect, >=, TOUCH_BYTES);
    g_assert_cmpfloat((gdouble)p->rss_bytes, >=, expect * 0.95);
    g_assert_cmpfloat((gdouble)p->rss_bytes, <=, expect * 1.05);
    /* No RSS exceeds anonymous + file-mapped pages: the bound that lets a
     * calm sample skip the processes (st-figures.c). */
    g_assert_cmpuint(p->rss_bytes, <=, snap->resident_bound_bytes);
  }

  g_assert_true(g_file_get_contents("/proc/meminfo", &meminfo, &len, NULL));
  g_assert_true(st_parse_meminfo(meminfo, len, &mi, NULL));
  g_assert_cmpuint(snap->mem_total_bytes, ==, mi.total_bytes);
  g_assert_cmpfloat(fabs((gdouble)snap->mem_available_bytes - (gdouble)mi.available_bytes), <=,
                    0.01 * (gdouble)mi.total_bytes);
  g_assert_cmpuint(snap->mem_used_bytes + snap->mem_available_bytes, ==, snap->mem_total_bytes);
  child_stop(&child);
}

static void
test_short_lived(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  const StProcess *p;
  guint64 report[2];
  int fds[2];
  Child child;

  if (c == NULL)
    return;
  g_assert_no_errno(pipe(fds));
  short_report_fd = fds[1];
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  child = child_start(spawn_short_lived);
  g_assert_cmpint(read(fds[0], report, sizeof(report)), ==, sizeof(report));
  close(fds[0]);
  close(fds[1]);
  p = sample_and_find(c, snap, child.pid);
  {
    /* The children lived and died between two samples: their time is the
     * spawner's, from the kernel's reaped-children totals (exact with BPF,
     * in clock ticks with /proc). */
    gdouble charged = (gdouble)p->cpu_time_ns - (gdouble)report[1];
    g_test_message("%d children: %.3f s by rusage, %.3f s charged to the parent (%s)", N_SHORT,
                   (gdouble)report[0] / 1e9, charged / 1e9, snap->backend);
    g_assert_cmpfloat(charged, >=, (gdouble)report[0] * 0.85);
    g_assert_cmpfloat(charged, <=, (gdouble)report[0] * 1.15);
  }
  child_stop(&child);
}

static void
test_syscalls_while_running(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  const StProcess *p;
  pid_t pid;
  int status;

  if (c == NULL)
    return;
  /* A process in a syscall loop alone on its CPU never leaves it: its
   * count must be read while it runs (from its CPU's pending slot), not
   * when the scheduler next switches it out. The child counts its own calls
   * in shared memory; the collector must see the count of the moment it
   * read, between what the child had counted before and after. */
  volatile guint64 *made =
      mmap(NULL, sizeof(guint64), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cpu_set_t mine, saved;
  guint64 before, after;

  g_assert_true(made != MAP_FAILED);
  *made = 0;
  if (kind == ST_BACKEND_BPF && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    g_test_skip("one CPU: the sampler itself switches the loop out");
    return;
  }
  g_assert_no_errno(sched_getaffinity(0, sizeof(saved), &saved));
  pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    cpu_set_t one;
    /* A failed assertion in the parent must not leave it spinning. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    sched_setaffinity(0, sizeof(one), &one);
    for (;;) {
      syscall(SYS_getppid);
      *made = *made + 1;
    }
  }
  CPU_ZERO(&mine);
  CPU_SET(0, &mine);
  g_assert_no_errno(sched_setaffinity(0, sizeof(mine), &mine));
  g_usleep(200000);
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  g_usleep(500000);
  before = *made;
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  after = *made;
  p = st_snapshot_find(snap, pid);
  g_assert_nonnull(p);
  g_test_message("running syscall loop: %.0f/s; counted %" G_GUINT64_FORMAT
                 ", made %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT,
                 p->syscalls_per_s, p->syscalls, before, after);
  if (kind == ST_BACKEND_BPF) {
    g_assert_cmpfloat(p->syscalls_per_s, >, 100000);
    /* A few more than made: sched_setaffinity and the fork's return. */
    g_assert_cmpuint(p->syscalls, >=, before);
    g_assert_cmpuint(p->syscalls, <=, after + 100);
  } else {
    g_assert_false(st_value_available(p->syscalls_per_s));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  g_assert_no_errno(sched_setaffinity(0, sizeof(saved), &saved));
  munmap((void *)made, sizeof(guint64));
}

/* Zero cost while calm: off detaches every hook, figures say "not counted"
 * (NAN), never 0; on attaches them and counts again. */
static void
test_counting_on_demand(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  const StProcess *p;
  Child child;

  if (c == NULL)
    return;
  if (kind == ST_BACKEND_PROC) {
    g_assert_false(st_collector_can_count_syscalls(c));
    g_assert_false(st_collector_set_syscall_counting(c, TRUE, &error));
    g_assert_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED);
    g_assert_true(st_collector_set_syscall_counting(c, FALSE, NULL));
    return;
  }
  g_assert_cmpuint(st_test_count_hook_links(), >, 0);
  g_assert_true(st_collector_set_syscall_counting(c, FALSE, NULL));
  g_assert_cmpuint(st_test_count_hook_links(), ==, 0);
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  child = child_start(make_syscalls);
  p = sample_and_find(c, snap, child.pid);
  g_assert_false(st_value_available(p->syscalls_per_s));
  g_assert_false(st_value_available(snap->syscalls_per_s));
  /* Its kernel time is seen without any hook: what arms the counting. */
  g_test_message("uncounted syscall loop: %.1f%% CPU, %.1f%% in the kernel", p->cpu_percent,
                 p->system_percent);
  g_assert_cmpfloat(p->system_percent, >, 0);
  child_stop(&child);

  g_assert_true(st_collector_set_syscall_counting(c, TRUE, NULL));
  g_assert_cmpuint(st_test_count_hook_links(), >, 0);
  child = child_start(make_syscalls);
  p = sample_and_find(c, snap, child.pid);
  g_assert_true(st_value_available(p->syscalls_per_s));
  g_assert_cmpuint(p->syscalls, >=, N_SYSCALLS);
  child_stop(&child);
}

static guint
count_fds(void)
{
  g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
  guint n = 0;
  g_assert_nonnull(dir);
  while (g_dir_read_name(dir) != NULL)
    n++;
  return n;
}

/* Samples that read only the system's figures leave the process table as
 * it was; the next that reads the processes gives rates over the time
 * since they were last read, or over the life of a process started since. */
static void
test_system_only(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = collector_or_skip(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  const StProcess *p;
  guint64 t0, born;
  Child child;

  if (c == NULL)
    return;
  g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
  t0 = snap->timestamp_ns;
  g_assert_true(snap->processes_fresh);
  /* Half a second in: the burner is charged over its own life, not over
   * the half second before it existed. */
  g_usleep(500000);
  g_assert_true(st_collector_sample_system(c, now_ns(), snap, NULL));
  born = now_ns();
  child = child_start(burn_cpu);
  for (guint i = 0; i < 2; i++) {
    g_usleep(250000);
    g_assert_true(st_collector_sample_system(c, now_ns(), snap, NULL));
    g_assert_false(snap->processes_fresh);
    g_assert_cmpuint(snap->processes_ns, ==, t0);
    g_assert_null(st_snapshot_find(snap, child.pid)); /* the table of t0 */
    g_assert_true(st_value_available(snap->cpu_busy_percent));
    if (i == 1) /* the system's interval, not the processes' */
      g_assert_cmpfloat(snap->interval_s, <, 1.0);
    /* Counted with the processes: unknown, not 0. */
    g_assert_false(st_value_available(snap->syscalls_per_s));
    g_assert_false(st_value_available(snap->unattributed_cpu_percent));
  }
  g_assert_true(st_collector_sample_processes(c, snap, NULL));
  g_assert_true(snap->processes_fresh);
  p = st_snapshot_find(snap, child.pid);
  g_assert_nonnull(p);
  {
    gdouble life = (gdouble)(snap->timestamp_ns - born) / 1e9;
    gdouble expect = 100.0 * (gdouble)p->cpu_time_ns / 1e9 / life;
    g_test_message("burner: %.3f s of CPU over its %.3f s (%.3f s since the last read): %.1f%% "
                   "(shown %.1f%%)",
                   (gdouble)p->cpu_time_ns / 1e9, life, (gdouble)(snap->timestamp_ns - t0) / 1e9,
                   expect, p->cpu_percent);
    /* /proc: start times and CPU in 10 ms ticks. */
    g_assert_cmpfloat(fabs(p->cpu_percent - expect), <=, 0.05 * expect + 1.0);
  }
  child_stop(&child);
}

static void
test_lifecycle(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  guint before = count_fds();
  StCollector *c;
  g_autoptr(StSnapshot) snap = st_snapshot_new();

  for (int round = 0; round < 3; round++) {
    c = collector_or_skip(kind);
    if (c == NULL)
      return;
    /* Initialising again is a no-op: no second set of programs. */
    guint after_init = count_fds();
    g_assert_true(st_collector_init(c, NULL));
    g_assert_cmpuint(count_fds(), ==, after_init);
    g_assert_true(st_collector_sample(c, now_ns(), snap, NULL));
    /* The first sample is a baseline: no rates yet. */
    g_assert_false(st_value_available(snap->cpu_busy_percent));
    g_assert_cmpfloat(snap->interval_s, ==, 0);
    g_assert_true(st_collector_sample(c, now_ns() + 1000000, snap, NULL));
    g_assert_cmpuint(snap->processes->len, >, 1);
    st_collector_free(c);
    /* Teardown closes every map, program and link fd. */
    g_assert_cmpuint(count_fds(), ==, before);
  }
}

static void
test_auto(void)
{
  g_autoptr(StCollector) c = st_collector_new(ST_BACKEND_AUTO);
  g_autoptr(GError) error = NULL;

  g_assert_true(st_collector_init(c, &error));
  g_assert_no_error(error);
  if (g_str_equal(st_collector_get_backend_name(c), "proc")) {
    /* Falling back is fine; falling back silently is not. */
    g_assert_nonnull(st_collector_get_fallback_reason(c));
    g_test_message("auto chose /proc: %s", st_collector_get_fallback_reason(c));
  } else {
    g_assert_null(st_collector_get_fallback_reason(c));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (int k = ST_BACKEND_BPF; k <= ST_BACKEND_PROC; k++) {
    const char *name = k == ST_BACKEND_BPF ? "bpf" : "proc";
    g_autofree char *cpu = g_strdup_printf("/collector/%s/cpu", name);
    g_autofree char *sys = g_strdup_printf("/collector/%s/syscalls", name);
    g_autofree char *mem = g_strdup_printf("/collector/%s/memory", name);
    g_autofree char *life = g_strdup_printf("/collector/%s/lifecycle", name);
    g_test_add_data_func(cpu, GINT_TO_POINTER(k), test_cpu);
    g_test_add_data_func(sys, GINT_TO_POINTER(k), test_syscalls);
    g_test_add_data_func(mem, GINT_TO_POINTER(k), test_memory);
    g_test_add_data_func(life, GINT_TO_POINTER(k), test_lifecycle);
    g_autofree char *sys_only = g_strdup_printf("/collector/%s/system-only", name);
    g_test_add_data_func(sys_only, GINT_TO_POINTER(k), test_system_only);
    g_autofree char *short_lived = g_strdup_printf("/collector/%s/short-lived", name);
    g_test_add_data_func(short_lived, GINT_TO_POINTER(k), test_short_lived);
    g_autofree char *running = g_strdup_printf("/collector/%s/syscalls-while-running", name);
    g_test_add_data_func(running, GINT_TO_POINTER(k), test_syscalls_while_running);
    g_autofree char *demand = g_strdup_printf("/collector/%s/counting-on-demand", name);
    g_test_add_data_func(demand, GINT_TO_POINTER(k), test_counting_on_demand);
  }
  g_test_add_func("/collector/auto", test_auto);
  return g_test_run();
}
