/* st-names.c: display names of processes. */
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

char *
st_display_name(const char *cmdline, gsize len, const char *comm)
{
  const char *end, *base;
  gsize word_len;

  if (cmdline == NULL || len == 0 || cmdline[0] == '\0')
    return st_sanitize_name(comm, -1);
  /* The first word ends at the first NUL; a process that rewrote its
   * cmdline as one string with spaces ("sshd: user@pts/0") keeps its first
   * word only. */
  end = memchr(cmdline, '\0', len);
  word_len = end != NULL ? (gsize)(end - cmdline) : len;
  if (end == NULL || end + 1 >= cmdline + len) {
    /* A single string: either one word or a rewritten title. */
    end = memchr(cmdline, ' ', word_len);
    if (end != NULL && end > cmdline)
      word_len = (gsize)(end - cmdline);
  }
  base = cmdline;
  for (gsize i = 0; i < word_len; i++)
    if (cmdline[i] == '/' && i + 1 < word_len)
      base = cmdline + i + 1;
  word_len -= (gsize)(base - cmdline);
  if (word_len == 0)
    return st_sanitize_name(comm, -1);
  return st_sanitize_name(base, (gssize)word_len);
}
