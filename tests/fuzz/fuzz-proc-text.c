/* fuzz-proc-text.c: /proc/stat, meminfo, pressure and cgroup text. */
#include "st-cgroup.h"
#include "st-procfs-parse.h"

#include <math.h>
#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  StCpuTimes a, b;
  StMemInfo mi;
  gdouble some, full, busy, user, sys, idle;
  char *id;

  if (st_parse_cpu_times(text, size, &a, NULL)) {
    b = a;
    b.idle += 1;
    g_assert(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
    g_assert(idle >= 0 && idle <= 100 && busy >= 0 && busy <= 100);
  }
  if (st_parse_meminfo(text, size, &mi, NULL))
    g_assert(mi.available_bytes <= mi.total_bytes);
  if (st_parse_pressure(text, size, &some, &full, NULL))
    g_assert(some >= 0 && some <= 100);
  id = st_app_id_from_cgroup(text, size);
  if (id != NULL)
    g_assert(strchr(id, '/') == NULL && id[0] != '\0');
  g_free(id);
  return 0;
}
