/* fuzz-names.c: display names from command lines, and sanitizing. Whatever
 * the bytes, a name is valid UTF-8 on one line without control characters. */
#include "st-names.h"

#include <stdint.h>
#include <string.h>

static void
check(char *name)
{
  g_assert(g_utf8_validate(name, -1, NULL));
  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    g_assert(!g_unichar_iscntrl(c) && c != 0x2028 && c != 0x2029);
  }
  g_assert(!g_ascii_isspace(name[0]));
  g_free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char comm[16] = {0};
  char *raw = g_strndup((const char *)data, size);

  /* The comm: the bytes after the first NUL, cut as the kernel cuts it. */
  const uint8_t *nul = memchr(data, '\0', size);
  if (nul != NULL)
    strncpy(comm, (const char *)nul + 1, MIN(size - (gsize)(nul + 1 - data), sizeof(comm) - 1));
  check(st_display_name((const char *)data, size, comm));
  check(st_display_name(NULL, 0, comm));
  check(st_sanitize_name((const char *)data, (gssize)size));
  check(st_sanitize_name(raw, -1));
  g_free(raw);
  return 0;
}
