/* bench-clock.h: the benchmarks' clock: CLOCK_MONOTONIC in ns. */
#pragma once

#include <time.h>

static inline double
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
