/* fuzz-names.c: display names from command lines, and sanitizing. */
#include "st-names.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char comm[16] = {0};
  char *name, *clean;

  memcpy(comm, data, MIN(size, sizeof(comm) - 1));
  name = st_display_name((const char *)data, size, comm);
  /* Whatever the bytes: valid UTF-8, one line, no control characters. */
  g_assert(g_utf8_validate(name, -1, NULL));
  g_assert(strchr(name, '\n') == NULL);
  for (const char *p = name; *p; p = g_utf8_next_char(p))
    g_assert(!g_unichar_iscntrl(g_utf8_get_char(p)));
  clean = st_sanitize_name((const char *)data, (gssize)size);
  g_assert(g_utf8_validate(clean, -1, NULL));
  g_free(clean);
  g_free(name);
  return 0;
}
