/* fuzz-pid-stat.c: /proc/<pid>/stat and statm parsers on arbitrary bytes. */
#include "st-procfs-parse.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StPidStat st;
  guint64 resident;

  if (st_parse_pid_stat((const char *)data, size, &st, NULL)) {
    /* What it returns must be what was there: a NUL-terminated comm. */
    g_assert(memchr(st.comm, '\0', sizeof(st.comm)) != NULL);
    g_assert(st.pid > 0);
  }
  st_parse_statm((const char *)data, size, &resident, NULL);
  return 0;
}
