/* bench-desktop.c: a fixed, desktop-like mix of system calls and context
 * switches for SECONDS, the load under which bench.py weighs the whole cost
 * of a peer. Every thread works in 1 ms periods (absolute deadlines, so the
 * work is the same however slow the machine is; a late period is caught up):
 *   - IO_THREADS threads: IO_PAIRS short write+read pairs on a private
 *     non-blocking pipe, then sleep (an editor, a terminal, a compositor);
 *   - a pipe ping-pong pair: PIPE_TRIPS round trips through two pipes;
 *   - a futex ping-pong pair: FUTEX_TRIPS round trips through one futex word.
 * Defaults: about 100k syscalls/s and 20k context switches/s.
 *
 * usage: bench-desktop SECONDS [IO_THREADS IO_PAIRS PIPE_TRIPS FUTEX_TRIPS]
 * Prints one line of "key=value": wall_s, syscalls (counted here, exact),
 * cpu_ms (utime+stime of all threads), csw (own context switches) and ctxt
 * (the machine's, from /proc/stat). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS 1000000L

static long periods;
static int io_pairs = 15, pipe_trips = 4, futex_trips = 4;
static atomic_long total_syscalls;

static void
next_period(struct timespec *t)
{
  t->tv_nsec += PERIOD_NS;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_nsec -= 1000000000L;
    t->tv_sec += 1;
  }
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL);
}

static void *
io_thread(void *data)
{
  int p[2];
  char buf[64] = {0};
  long n = 0;
  struct timespec t;

  (void)data;
  if (pipe2(p, O_NONBLOCK) != 0)
    abort();
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (long i = 0; i < periods; i++) {
    for (int j = 0; j < io_pairs; j++) {
      if (write(p[1], buf, sizeof(buf)) != sizeof(buf) || read(p[0], buf, sizeof(buf)) < 0)
        abort();
      n += 2;
    }
    next_period(&t);
    n++;
  }
  close(p[0]);
  close(p[1]);
  atomic_fetch_add(&total_syscalls, n);
  return NULL;
}

static int to_echo[2], from_echo[2];

static void *
pipe_echo(void *data)
{
  char c;
  long n = 0;

  (void)data;
  while (read(to_echo[0], &c, 1) == 1) {
    n++;
    if (c == 'q' || write(from_echo[1], &c, 1) != 1)
      break;
    n++;
  }
  atomic_fetch_add(&total_syscalls, n);
  return NULL;
}

static void *
pipe_leader(void *data)
{
  char c = 'x';
  long n = 0;
  struct timespec t;

  (void)data;
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (long i = 0; i < periods; i++) {
    for (int j = 0; j < pipe_trips; j++) {
      if (write(to_echo[1], &c, 1) != 1 || read(from_echo[0], &c, 1) != 1)
        abort();
      n += 2;
    }
    next_period(&t);
    n++;
  }
  c = 'q';
  if (write(to_echo[1], &c, 1) != 1)
    abort();
  atomic_fetch_add(&total_syscalls, n + 1);
  return NULL;
}

/* 1: the follower's turn, 2: the leader's, 3: stop. */
static atomic_int turn = 2;

static long
futex(atomic_int *word, int op, int val)
{
  return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void *
futex_follower(void *data)
{
  long n = 0;

  (void)data;
  for (;;) {
    int v;
    while ((v = atomic_load(&turn)) == 2) {
      futex(&turn, FUTEX_WAIT, 2);
      n++;
    }
    if (v == 3)
      break;
    atomic_store(&turn, 2);
    futex(&turn, FUTEX_WAKE, 1);
    n++;
  }
  atomic_fetch_add(&total_syscalls, n);
  return NULL;
}

static void *
futex_leader(void *data)
{
  long n = 0;
  struct timespec t;

  (void)data;
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (long i = 0; i < periods; i++) {
    for (int j = 0; j < futex_trips; j++) {
      atomic_store(&turn, 1);
      futex(&turn, FUTEX_WAKE, 1);
      n++;
      while (atomic_load(&turn) == 1) {
        futex(&turn, FUTEX_WAIT, 1);
        n++;
      }
    }
    next_period(&t);
    n++;
  }
  atomic_store(&turn, 3);
  futex(&turn, FUTEX_WAKE, 1);
  atomic_fetch_add(&total_syscalls, n + 1);
  return NULL;
}

static unsigned long long
machine_ctxt(void)
{
  char line[256];
  unsigned long long v = 0;
  FILE *f = fopen("/proc/stat", "r");

  if (!f)
    return 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "ctxt %llu", &v) == 1)
      break;
  fclose(f);
  return v;
}

static double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
  double seconds = argc > 1 ? atof(argv[1]) : 60;
  int io_threads = argc > 2 ? atoi(argv[2]) : 2;
  pthread_t th[64];
  int n = 0;
  struct rusage ru;
  unsigned long long ctxt0, ctxt1;
  double t0, t1;

  if (argc > 3)
    io_pairs = atoi(argv[3]);
  if (argc > 4)
    pipe_trips = atoi(argv[4]);
  if (argc > 5)
    futex_trips = atoi(argv[5]);
  if (io_threads < 0 || io_threads > 60 || seconds <= 0) {
    fprintf(stderr, "usage: bench-desktop SECONDS [IO_THREADS IO_PAIRS PIPE_TRIPS FUTEX_TRIPS]\n");
    return 2;
  }
  periods = (long)(seconds * 1e9 / PERIOD_NS);
  if (pipe(to_echo) != 0 || pipe(from_echo) != 0)
    return 1;
  ctxt0 = machine_ctxt();
  t0 = now_s();
  for (int i = 0; i < io_threads; i++)
    pthread_create(&th[n++], NULL, io_thread, NULL);
  if (pipe_trips > 0) {
    pthread_create(&th[n++], NULL, pipe_echo, NULL);
    pthread_create(&th[n++], NULL, pipe_leader, NULL);
  }
  if (futex_trips > 0) {
    pthread_create(&th[n++], NULL, futex_follower, NULL);
    pthread_create(&th[n++], NULL, futex_leader, NULL);
  }
  for (int i = 0; i < n; i++)
    pthread_join(th[i], NULL);
  t1 = now_s();
  ctxt1 = machine_ctxt();
  getrusage(RUSAGE_SELF, &ru);
  printf("wall_s=%.3f syscalls=%ld cpu_ms=%.3f csw=%ld ctxt=%llu\n", t1 - t0,
         atomic_load(&total_syscalls),
         (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
         ru.ru_nvcsw + ru.ru_nivcsw, ctxt1 - ctxt0);
  return 0;
}
