/* fuzz-proc-text.c: /proc/stat, meminfo, statm, pressure and cgroup text,
 * each parser on the same arbitrary bytes. */
#include "st-cgroup.h"
#include "st-procfs-parse.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Far from wrapping when summed: what a real kernel could ever count. */
static gboolean
sane(const StCpuTimes *t)
{
  const guint64 big = G_GUINT64_CONSTANT(1) << 60;
  return t->user < big && t->nice < big && t->system < big && t->idle < big && t->iowait < big &&
         t->irq < big && t->softirq < big;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  StCpuTimes a, b;
  StMemInfo mi;
  guint64 resident;
  gdouble some, full, busy, user, sys, idle;
  char *id;

  if (st_parse_cpu_times(text, size, &a, NULL) && sane(&a)) {
    b = a;
    b.idle += 1;
    b.user += 3;
    g_assert(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
    g_assert(G_APPROX_VALUE(idle, 25.0, 1e-9) && G_APPROX_VALUE(busy, 75.0, 1e-9));
    g_assert(!st_cpu_times_delta(&b, &a, &busy, &user, &sys, &idle));
  }
  if (st_parse_meminfo(text, size, &mi, NULL))
    g_assert(mi.available_bytes <= mi.total_bytes && mi.swap_free_bytes <= mi.swap_total_bytes);
  st_parse_statm(text, size, &resident, NULL);
  if (st_parse_pressure(text, size, &some, &full, NULL))
    g_assert(some >= 0 && some <= 100 && (isnan(full) || (full >= 0 && full <= 100)));
  id = st_app_id_from_cgroup(text, size);
  if (id != NULL)
    g_assert(id[0] != '\0' && strchr(id, '/') == NULL);
  g_free(id);
  return 0;
}
