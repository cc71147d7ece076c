/* st-cgroup.c: application ids from cgroup paths. */
#define G_LOG_DOMAIN "smoothtask-cgroup"
#include "st-cgroup.h"

#include <string.h>

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* Undoes systemd's unit-name escaping of the id ("\x2d" for '-'). */
static char *
unescape(const char *s, gsize len)
{
  GString *out = g_string_sized_new(len);
  for (gsize i = 0; i < len; i++) {
    if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && g_ascii_isxdigit(s[i + 2]) &&
        g_ascii_isxdigit(s[i + 3])) {
      char c = (char)(g_ascii_xdigit_value(s[i + 2]) * 16 + g_ascii_xdigit_value(s[i + 3]));
      if (c != '\0' && c != '/')
        g_string_append_c(out, c);
      i += 3;
    } else {
      g_string_append_c(out, s[i]);
    }
  }
  return g_string_free(out, FALSE);
}

static char *
app_id_from_unit(const char *unit, gboolean in_user_manager)
{
  gsize len = strlen(unit);
  gboolean scope = g_str_has_suffix(unit, ".scope");
  gboolean service = g_str_has_suffix(unit, ".service");
  g_auto(GStrv) parts = NULL;
  g_autofree char *base = NULL;
  guint n;

  if (!scope && !service)
    return NULL;
  base = g_strndup(unit, len - (scope ? strlen(".scope") : strlen(".service")));
  if (service) {
    char *at = strchr(base, '@');
    if (at != NULL)
      *at = '\0';
  }
  if (!g_str_has_prefix(base, "app-")) {
    /* A plain user service groups its processes too; a scope that is not
     * an app (session-2.scope, init.scope) does not. */
    if (service && in_user_manager && base[0] != '\0')
      return unescape(base, strlen(base));
    return NULL;
  }
  /* Dashes inside the id are escaped, so '-' separates fields exactly. */
  parts = g_strsplit(base + strlen("app-"), "-", -1);
  n = g_strv_length(parts);
  if (scope) {
    /* <id>-<random> or <launcher>-<id>-<random> */
    if (n == 2)
      return unescape(parts[0], strlen(parts[0]));
    if (n == 3)
      return unescape(parts[1], strlen(parts[1]));
    return NULL;
  }
  /* <id> or <launcher>-<id> */
  if (n == 1)
    return unescape(parts[0], strlen(parts[0]));
  if (n == 2)
    return unescape(parts[1], strlen(parts[1]));
  return NULL;
}

/* An id must name something, in the characters of a desktop file id: it
 * goes raw into D-Bus signals, the alert command's environment, log lines
 * and ignored-processes. Anything else ("app-\xff\n<b>-1.scope") is a
 * name a process chose, not an application: the process belongs to none.
 * Rejected whole rather than filtered, so that two ids never merge. */
static char *
valid_id(char *id)
{
  if (id == NULL)
    return NULL;
  if (id[0] == '\0' || strspn(id, ID_CHARS) != strlen(id))
    g_clear_pointer(&id, g_free);
  return id;
}

static char *
app_id_from_path(const char *path, gsize len)
{
  g_autofree char *copy = g_strndup(path, len);
  const char *leaf = strrchr(copy, '/');
  gboolean user = strstr(copy, "/user@") != NULL;

  leaf = leaf != NULL ? leaf + 1 : copy;
  if (leaf[0] == '\0')
    return NULL;
  return valid_id(app_id_from_unit(leaf, user));
}

char *
st_app_id_from_cgroup(const char *text, gsize len)
{
  const char *end = text + len;
  const char *unified = NULL, *named = NULL;
  gsize unified_len = 0, named_len = 0;

  if (text == NULL)
    return NULL;
  for (const char *line = text; line < end;) {
    const char *nl = memchr(line, '\n', (gsize)(end - line));
    const char *line_end = nl != NULL ? nl : end;
    const char *c1 = memchr(line, ':', (gsize)(line_end - line));
    const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (gsize)(line_end - c1 - 1)) : NULL;

    if (c2 != NULL) {
      gsize plen = (gsize)(line_end - c2 - 1);
      if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
        unified = c2 + 1;
        unified_len = plen;
      } else if ((gsize)(c2 - c1 - 1) == strlen("name=systemd") &&
                 memcmp(c1 + 1, "name=systemd", strlen("name=systemd")) == 0) {
        named = c2 + 1;
        named_len = plen;
      }
    }
    line = nl != NULL ? nl + 1 : end;
  }
  if (unified != NULL && !(unified_len == 1 && unified[0] == '/')) {
    char *id = app_id_from_path(unified, unified_len);
    if (id != NULL)
      return id;
  }
  if (named != NULL)
    return app_id_from_path(named, named_len);
  return NULL;
}
