/* st-names.c: display names of processes. */
#define G_LOG_DOMAIN "smoothtask-names"
#include "st-names.h"

#include <string.h>

char *
st_sanitize_name(const char *raw, gssize len)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;

  if (raw == NULL)
    return g_strdup("");
  if (len < 0)
    len = (gssize)strlen(raw);
  valid = g_utf8_make_valid(raw, len);
  out = g_string_sized_new(strlen(valid));
  for (p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    /* Line breaks, and bidi controls that would let a name reverse the rest
     * of a line ("evil\u202Etxt.exe, pid 42" showing the pid backwards). */
    if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 || c == 0x200E || c == 0x200F ||
        c == 0x061C || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
      g_string_append_c(out, ' ');
    else
      g_string_append_unichar(out, c);
  }
  return g_strstrip(g_string_free(out, FALSE));
}

/* The base name of a path of len bytes: what follows its last '/', unless
 * that ends it ("/usr/bin/" gives "bin/"). */
static char *
base_name(const char *path, gsize len)
{
  const char *base = path;

  for (gsize i = 0; i + 1 < len; i++)
    if (path[i] == '/')
      base = path + i + 1;
  return st_sanitize_name(base, (gssize)(len - (gsize)(base - path)));
}

char *
st_display_name(const char *cmdline, gsize len, const char *comm)
{
  g_autofree char *name = NULL;
  gsize padding = 0;

  /* A title set in place is padded with NULs to the length of the old
   * arguments; a real command line ends with exactly one. */
  while (cmdline != NULL && len > 0 && cmdline[len - 1] == '\0') {
    len--;
    padding++;
  }
  if (cmdline != NULL && len > 0) {
    const char *nul = memchr(cmdline, '\0', len);
    gsize arg_len = nul != NULL ? (gsize)(nul - cmdline) : len;
    const char *word = cmdline;
    const char *space;

    while (word < cmdline + arg_len && *word == ' ')
      word++;
    space = memchr(word, ' ', arg_len - (gsize)(word - cmdline));
    if (space != NULL && space > word + 1 && space[-1] == ':' &&
        memchr(word, '/', (gsize)(space - word)) == NULL)
      /* A title in the form of BSD setproctitle(3), "sshd: user@pts/0":
       * the name before the colon. */
      name = st_sanitize_name(word, (gssize)(space - 1 - word));
    else if (nul == NULL && padding != 1 && space != NULL)
      /* Arguments rewritten as one string ("chrome --type=renderer"). */
      name = base_name(word, (gsize)(space - word));
    else
      /* argv[0] as it is, spaces and all ("/opt/My App/app"). */
      name = base_name(cmdline, arg_len);
  }
  if (name == NULL || name[0] == '\0') {
    g_free(name);
    name = st_sanitize_name(comm, -1);
  }
  if (name[0] == '\0') {
    g_free(name);
    name = g_strdup("process");
  }
  return g_steal_pointer(&name);
}
