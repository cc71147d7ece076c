/* test-names.c: the names shown for processes: from the command line or the
 * comm, on hostile bytes, titles set in place and unterminated buffers; and
 * the sanitizing of any name before it is shown. */
#include "st-names.h"

#include <string.h>

static void
check_name(const char *cmdline, gsize len, const char *comm, const char *expected)
{
  /* Exactly len bytes, no NUL after them: an overread is caught by ASan. */
  g_autofree char *buf = g_memdup2(cmdline, MAX(len, 1));
  g_autofree char *name = st_display_name(len > 0 ? buf : NULL, len, comm);

  g_assert_cmpstr(name, ==, expected);
  g_assert_true(g_utf8_validate(name, -1, NULL));
}

#define NAME(lit, comm, expected) check_name(lit, sizeof(lit) - 1, comm, expected)
#define FFFD                      "\xef\xbf\xbd"

static void
test_display_name(void)
{
  NAME("/usr/lib/firefox/firefox\0-contentproc\0", "Web Content", "firefox");
  NAME("bash\0", "bash", "bash");
  NAME("./run.sh\0-x\0", "run.sh", "run.sh");
  NAME("", "kworker/0:1", "kworker/0:1");
  NAME("\0\0", "zombie", "zombie");
  NAME("/usr/bin/\xff\xfe\0", "x", FFFD FFFD);
  NAME("/usr/bin/a\nb\0", "x", "a b");
  /* Markup is text: the last '/' still ends the directory part. */
  NAME("<b>x</b>&\"\0", "x", "b>&\"");
  {
    g_autofree char *name = st_display_name("/bin/caf\xe9\0", 10, "x");
    g_assert_true(g_utf8_validate(name, -1, NULL));
    g_assert_nonnull(strstr(name, FFFD));
    g_assert_cmpstr(name, ==, "caf" FFFD);
  }
}

/* argv[0] is one NUL-terminated string and kept whole, spaces and all; a
 * title set in place (no NUL between words, or NUL padding after it) is cut
 * at its first space, and its "name:" prefix (BSD setproctitle) gives the
 * name as ps -o comm would show it. */
static void
test_display_name_titles(void)
{
  NAME("/opt/My App/app\0", "comm", "app");
  NAME("/opt/My App/app\0--flag\0", "app", "app");
  NAME("sshd: user@pts/0", "sshd", "sshd");
  NAME("sshd: user@pts/0\0", "sshd", "sshd");
  NAME("sshd: user@pts/0\0\0\0\0\0", "comm", "sshd");
  NAME("sshd: user@pts/0\0-D\0", "comm", "sshd"); /* rest of the old argv left behind */
  NAME("postgres: checkpointer\0\0", "postgres", "postgres");
  NAME("/opt/google/chrome/chrome --type=renderer\0\0\0", "chrome", "chrome");
  NAME("bash -c true", "bash", "bash");
}

/* When the command line gives nothing to show: the sanitized comm, and when
 * that is empty too a placeholder, never an empty or unsafe name. */
static void
test_display_name_fallback(void)
{
  NAME(" \0", "comm", "comm");
  NAME("   ", "comm", "comm");
  NAME("\x1b\0-x\0", "evil\u202Etxt", "evil txt");
  NAME("/usr/bin/\x01\0", "a\xffz", "a" FFFD "z");
  NAME("\u202E\0", "\xc3", FFFD);
  NAME("\n\t\x1b --flag", "a\x1b[b\n", "a [b");
  NAME("\xe2\x80\xae\x1b: x", "\t<\xff>", "<" FFFD ">"); /* a title whose name cleans to nothing */
  NAME("\t\0", "\n", "process");
  NAME("\n\t\0", "\n\x1b\xe2\x80\xae", "process");
  NAME("", "\u2066", "process");
  check_name("", 0, NULL, "process");
}

static void
check_sanitize(const char *raw, gssize len, const char *expected)
{
  g_autofree char *clean = st_sanitize_name(raw, len);

  g_assert_cmpstr(clean, ==, expected);
  g_assert_true(g_utf8_validate(clean, -1, NULL));
}

static void
test_sanitize_name(void)
{
  check_sanitize("a\nb\tc\x1b[0m", -1, "a b c [0m");
  check_sanitize("a\rb\x7f"
                 "c",
                 -1, "a b c");
  check_sanitize("\nname\t", -1, "name");
  check_sanitize("<b>x</b>", -1, "<b>x</b>"); /* escaping is the formatter's job */
  check_sanitize("a & \"b\"", -1, "a & \"b\"");
  check_sanitize("\xff\xfe", -1, FFFD FFFD);
  check_sanitize("x\xc3", -1, "x" FFFD); /* cut inside a sequence */
  check_sanitize("caf\xc3\xa9", -1, "caf\xc3\xa9");
  check_sanitize("evil\u202Etxt", -1, "evil txt");
  check_sanitize("evil\u202Etxt.exe\u2066x", -1, "evil txt.exe x");
  check_sanitize("abcdef", 3, "abc");
  check_sanitize(NULL, -1, "");
  {
    /* Not NUL-terminated: only len bytes are read. */
    g_autofree char *buf = g_memdup2("name", 4);
    check_sanitize(buf, 4, "name");
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/names/display", test_display_name);
  g_test_add_func("/names/titles", test_display_name_titles);
  g_test_add_func("/names/fallback", test_display_name_fallback);
  g_test_add_func("/names/sanitize", test_sanitize_name);
  return g_test_run();
}
