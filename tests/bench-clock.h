/* bench-clock.h: the clock of the benchmarks and the kernel tests:
 * CLOCK_MONOTONIC in ns. */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t
mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double
now_ns(void)
{
  return (double)mono_ns();
}
