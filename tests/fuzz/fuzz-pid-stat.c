/* fuzz-pid-stat.c: the parser of /proc/<pid>/stat on arbitrary bytes. A
 * process may call itself ") 1 2 (" or put a newline in its name. */
#include "st-procfs-parse.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StPidStat st;
  GError *error = NULL;

  if (st_parse_pid_stat((const char *)data, size, &st, &error)) {
    g_assert(st.pid > 0);
    g_assert(st.ppid >= 0);
    g_assert(memchr(st.comm, '\0', sizeof(st.comm)) != NULL);
    /* The comm is what follows the first '(', up to the last ')'. */
    const char *open = memchr(data, '(', size);
    g_assert(open != NULL && memcmp(open + 1, st.comm, strlen(st.comm)) == 0);
  } else {
    g_assert(error != NULL && error->domain == ST_PARSE_ERROR);
    g_error_free(error);
  }
  return 0;
}
