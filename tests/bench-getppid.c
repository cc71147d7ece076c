/* bench-getppid.c: ns per getppid() system call, pinned to CPU 0, best of
 * several rounds. The hot path every sys_enter program taxes. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

int
main(int argc, char **argv)
{
  long calls = argc > 1 ? atol(argv[1]) : 2000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  double best = 1e30;
  cpu_set_t set;

  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof(set), &set);
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    for (long i = 0; i < calls; i++)
      syscall(SYS_getppid);
    double per = (now_ns() - t0) / (double)calls;
    if (per < best)
      best = per;
  }
  printf("%.1f\n", best);
  return 0;
}
