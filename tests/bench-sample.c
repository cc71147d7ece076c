/* bench-sample.c: CPU time of one collector sample (the call the agent makes
 * every interval), for a backend, median of N samples. */
#include "st-collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
  StBackendKind kind;
  int n = argc > 2 ? atoi(argv[2]) : 20;
  g_autoptr(StCollector) c = NULL;
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  g_autofree double *t = NULL;

  if (argc < 2 || !st_backend_kind_from_string(argv[1], &kind) || n < 1) {
    fprintf(stderr, "usage: bench-sample bpf|proc [samples]\n");
    return 2;
  }
  c = st_collector_new(kind);
  if (!st_collector_init(c, &error)) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  t = g_new(double, n);
  st_collector_sample(c, (guint64)g_get_monotonic_time() * 1000, snap, NULL);
  for (int i = 0; i < n; i++) {
    double t0 = cpu_ns();
    st_collector_sample(c, (guint64)g_get_monotonic_time() * 1000 + 1000, snap, NULL);
    t[i] = cpu_ns() - t0;
  }
  qsort(t, (size_t)n, sizeof(double), cmp);
  printf("%.3f %.3f %.3f %u\n", t[n / 2] / 1e6, t[0] / 1e6, t[n - 1] / 1e6, snap->processes->len);
  return 0;
}
