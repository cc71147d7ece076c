/* fuzz-names.c: display names from command lines, sanitizing, and
 * application ids from cgroup paths. Whatever the bytes, a name is valid
 * UTF-8 on one line without control or bidi characters; an application id
 * is NULL or a non-empty run of [A-Za-z0-9._-]. */
#include "st-cgroup.h"
#include "st-names.h"

#include <stdint.h>
#include <string.h>

static gboolean
is_bidi(gunichar c)
{
  return c == 0x200E || c == 0x200F || c == 0x061C || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

static void
check(char *name)
{
  g_assert(g_utf8_validate(name, -1, NULL));
  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    g_assert(!g_unichar_iscntrl(c) && c != 0x2028 && c != 0x2029 && !is_bidi(c));
  }
  g_assert(!g_ascii_isspace(name[0]));
  g_free(name);
}

static void
check_app_id(char *id)
{
  if (id == NULL)
    return;
  g_assert(id[0] != '\0');
  for (const char *p = id; *p; p++)
    g_assert(g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-');
  /* What it is sent as: a name, unchanged by sanitising. */
  {
    g_autofree char *clean = st_sanitize_name(id, -1);
    g_assert(strcmp(clean, id) == 0);
  }
  check(id);
}

/* The bytes as one unit of a user manager's cgroup, so that most inputs
 * reach the unit parser rather than stop at the line format. */
static void
check_as_unit(const uint8_t *data, size_t size, const char *prefix, const char *suffix)
{
  g_autoptr(GString) text = g_string_new("0::/user.slice/user-1000.slice/user@1000.service/");
  g_string_append(text, prefix);
  g_string_append_len(text, (const char *)data, (gssize)size);
  g_string_append(text, suffix);
  check_app_id(st_app_id_from_cgroup(text->str, text->len));
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

  /* cgroup -> application id, as the whole file and as one unit. */
  check_app_id(st_app_id_from_cgroup((const char *)data, size));
  check_as_unit(data, size, "app.slice/app-", "-1.scope\n");
  check_as_unit(data, size, "app.slice/app-gnome-", "-42.scope");
  check_as_unit(data, size, "app.slice/app-", "@1.service\n");
  check_as_unit(data, size, "session.slice/", ".service\n");
  return 0;
}
