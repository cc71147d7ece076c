/* bench-pingpong.c: ns per pipe round trip between two processes pinned on
 * CPU 0: 4 syscalls (2 write, 2 read) and 2 context switches. The case that
 * taxes SmoothTask's context-switch hook as much as its syscall hook. Prints
 * the best of 5 rounds. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

int
main(int argc, char **argv)
{
  long trips = argc > 1 ? atol(argv[1]) : 100000;
  int to_child[2], to_parent[2];
  double best = 1e30;
  cpu_set_t set;
  char c = 0;
  pid_t pid;

  CPU_ZERO(&set);
  CPU_SET(0, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0 || pipe(to_child) != 0 || pipe(to_parent) != 0)
    return 1;
  pid = fork();
  if (pid < 0)
    return 1;
  if (pid == 0) {
    /* Only the parent may hold the write end, or EOF never comes. */
    close(to_child[1]);
    close(to_parent[0]);
    while (read(to_child[0], &c, 1) == 1 && write(to_parent[1], &c, 1) == 1)
      ;
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  for (int r = 0; r < 5; r++) {
    double t0 = now_ns();
    for (long i = 0; i < trips; i++)
      if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1)
        return 1;
    double per = (now_ns() - t0) / (double)trips;
    if (per < best)
      best = per;
  }
  close(to_child[1]);
  waitpid(pid, NULL, 0);
  printf("%.1f\n", best);
  return 0;
}
