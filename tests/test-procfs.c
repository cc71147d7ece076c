/* test-procfs.c: the /proc parsers and display names on fixture text:
 * hostile process names, truncated files, unterminated buffers. */
#include "st-backend.h"
#include "st-collector.h"
#include "st-names.h"
#include "st-procfs-parse.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* A copy without a NUL after it, so that an overread is caught by ASan. */
static char *
exact(const char *text, gsize len)
{
  return g_memdup2(text, MAX(len, 1));
}

static gboolean
parse_stat(const char *text, gsize len, StPidStat *st, GError **error)
{
  g_autofree char *buf = exact(text, len);
  return st_parse_pid_stat(buf, len, st, error);
}

#define TAIL                                                                                       \
  " S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 3 0 98765 1000000 250 "                \
  "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"

static void
check_comm(const char *comm_in_file, const char *expected_comm)
{
  g_autofree char *text = g_strdup_printf("4242 (%s)" TAIL, comm_in_file);
  g_autoptr(GError) error = NULL;
  StPidStat st;

  g_assert_true(parse_stat(text, strlen(text), &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.pid, ==, 4242);
  g_assert_cmpstr(st.comm, ==, expected_comm);
  g_assert_cmpint(st.state, ==, 'S');
  g_assert_cmpint(st.ppid, ==, 1);
  g_assert_cmpuint(st.utime_ticks, ==, 1234);
  g_assert_cmpuint(st.stime_ticks, ==, 567);
  g_assert_cmpint(st.num_threads, ==, 3);
  g_assert_cmpuint(st.start_ticks, ==, 98765);
}

static void
test_pid_stat_names(void)
{
  check_comm("firefox", "firefox");
  check_comm("Web Content", "Web Content");
  check_comm("a) 1 (b", "a) 1 (b");
  check_comm(")(", ")(");
  check_comm("two\nlines", "two\nlines");
  check_comm("\xff\xfe bad", "\xff\xfe bad");
  check_comm("<b>x</b>&\"", "<b>x</b>&\"");
  check_comm("", "");
  /* Longer than the kernel's 15 bytes: kept to what fits. */
  check_comm("0123456789abcdefXYZ", "0123456789abcde");
}

static void
test_pid_stat_truncated(void)
{
  const char *full = "4242 (cat) R 1 4242 4242 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 555 0 0\n";
  StPidStat st;

  /* Every prefix short of the start time is an error, never garbage. */
  for (gsize len = 0; len < strlen(full); len++) {
    g_autoptr(GError) error = NULL;
    gboolean ok = parse_stat(full, len, &st, &error);
    if (len <= strlen("4242 (cat) R 1 4242 4242 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 555")) {
      g_assert_false(ok);
      g_assert_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED);
    }
  }
  g_assert_true(parse_stat(full, strlen(full), &st, NULL));
  g_assert_cmpuint(st.start_ticks, ==, 555);
  g_assert_false(parse_stat("x (y) S", 7, &st, NULL));
  g_assert_false(parse_stat("-5 (y) S 1", 10, &st, NULL));
  g_assert_false(parse_stat("99999999999999999999 (y)", 24, &st, NULL));
}

static void
test_statm(void)
{
  guint64 resident = 0;
  g_assert_true(st_parse_statm("1000 250 100 10 0 200 0\n", 24, &resident, NULL));
  g_assert_cmpuint(resident, ==, 250);
  g_assert_false(st_parse_statm("1000", 4, &resident, NULL));
  g_assert_false(st_parse_statm("", 0, &resident, NULL));
  g_assert_false(st_parse_statm("abc def", 7, &resident, NULL));
}

static char *
fixture(const char *name, gsize *len)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, len, NULL));
  return text;
}

static void
test_meminfo(void)
{
  const char *text = "MemTotal:       16000000 kB\nMemFree:  100 kB\n"
                     "MemAvailable:    4000000 kB\nSwapTotal: 2000 kB\nSwapFree: 500 kB\n";
  const char *no_avail = "MemTotal: 16000000 kB\nMemFree: 100 kB\n";
  g_autofree char *real = NULL;
  gsize len;
  StMemInfo mi;

  g_assert_true(st_parse_meminfo(text, strlen(text), &mi, NULL));
  g_assert_cmpuint(mi.total_bytes, ==, G_GUINT64_CONSTANT(16000000) * 1024);
  g_assert_cmpuint(mi.available_bytes, ==, G_GUINT64_CONSTANT(4000000) * 1024);
  g_assert_cmpuint(mi.swap_total_bytes, ==, 2000 * 1024);
  g_assert_cmpuint(mi.swap_free_bytes, ==, 500 * 1024);
  g_assert_false(st_parse_meminfo(no_avail, strlen(no_avail), &mi, NULL));
  /* Cut in the middle of MemAvailable's number: still a value, or an error,
   * never a crash; cut before it: an error. */
  g_assert_false(st_parse_meminfo(text, 30, &mi, NULL));

  real = fixture("meminfo", &len);
  g_assert_true(st_parse_meminfo(real, len, &mi, NULL));
  g_assert_cmpuint(mi.total_bytes, >, 0);
  g_assert_cmpuint(mi.available_bytes, <=, mi.total_bytes);
}

static void
test_cpu_times(void)
{
  g_autofree char *real = NULL;
  gsize len;
  StCpuTimes a = {0}, b = {0};
  gdouble busy, user, sys, idle;
  const char *line = "cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 50 0 25 425 0 0 0 0 0 0\n"
                     "cpu1 50 0 25 425 0 0 0 0 0 0\nintr 1\n";

  g_assert_true(st_parse_cpu_times(line, strlen(line), &a, NULL));
  g_assert_cmpuint(a.n_cpus, ==, 2);
  g_assert_cmpuint(a.user, ==, 100);
  g_assert_cmpuint(a.idle, ==, 850);
  b = a;
  b.user += 30;
  b.system += 10;
  b.idle += 60;
  b.steal += 1000; /* the hypervisor's, not ours */
  g_assert_true(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
  g_assert_cmpfloat_with_epsilon(busy, 40.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(user, 30.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(sys, 10.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(idle, 60.0, 1e-9);
  /* Backwards (CPU unplugged) or no change: no figure. */
  g_assert_false(st_cpu_times_delta(&b, &a, &busy, &user, &sys, &idle));
  g_assert_false(st_cpu_times_delta(&a, &a, &busy, &user, &sys, &idle));
  g_assert_false(st_parse_cpu_times("intr 1\n", 7, &a, NULL));
  g_assert_false(st_parse_cpu_times("cpu  1 2\n", 9, &a, NULL));

  real = fixture("stat", &len);
  g_assert_true(st_parse_cpu_times(real, len, &a, NULL));
  g_assert_cmpuint(a.n_cpus, >=, 1);
}

static void
check_name(const char *cmdline, gsize len, const char *comm, const char *expected)
{
  g_autofree char *buf = exact(cmdline, len);
  g_autofree char *name = st_display_name(len > 0 ? buf : NULL, len, comm);
  g_assert_cmpstr(name, ==, expected);
  g_assert_true(g_utf8_validate(name, -1, NULL));
}

static void
test_display_names(void)
{
  const char ff[] = "/usr/lib/firefox/firefox\0-contentproc\0";
  const char app[] = "/opt/My App/app\0--flag\0";
  const char bad[] = "/bin/\xff\xfe\0";

  check_name(ff, sizeof(ff) - 1, "Web Content", "firefox");
  check_name("sshd: user@pts/0", 16, "sshd", "sshd");
  check_name(app, sizeof(app) - 1, "app", "app");
  check_name("", 0, "kworker/0:1", "kworker/0:1");
  check_name("<b>x</b>&\"\0", 11, "x", "b>&\"");
  /* A first word that cleans to nothing: the comm, cleaned too, never raw;
   * then "process". */
  check_name("\n\t\x1b --flag", 10, "a\x1b[b\n", "a [b");
  check_name("\n\t\0", 3, "\n\x1b\xe2\x80\xae", "process");
  check_name("\xe2\x80\xae\x1b: x", 7, "\t<\xff>", "<\xef\xbf\xbd>");
  {
    g_autofree char *name = st_display_name(bad, sizeof(bad) - 1, "bad");
    g_assert_true(g_utf8_validate(name, -1, NULL));
    g_assert_nonnull(strstr(name, "\xef\xbf\xbd")); /* U+FFFD */
  }
  {
    g_autofree char *clean = st_sanitize_name("a\nb\tc\x1b[0m", -1);
    g_assert_cmpstr(clean, ==, "a b c [0m");
  }
  {
    g_autofree char *clean = st_sanitize_name("evil\u202Etxt.exe\u2066x", -1);
    g_assert_cmpstr(clean, ==, "evil txt.exe x");
  }
  {
    /* Markup is kept as text here: escaping is the formatter's job. */
    g_autofree char *clean = st_sanitize_name("<b>x</b>", -1);
    g_assert_cmpstr(clean, ==, "<b>x</b>");
  }
}

static void
test_process_gone(void)
{
  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[64];
  g_assert_cmpint(procfd, >=, 0);
  /* Between readdir() and open() the process exits: ENOENT, not a crash. */
  errno = 0;
  g_assert_cmpint(st_read_small_file(procfd, "2147483647/stat", buf, sizeof(buf)), ==, -1);
  g_assert_cmpint(errno, ==, ENOENT);
  close(procfd);
}

/* /proc/stat grows with the CPUs and the interrupt line: 384 CPUs did not
 * fit the 16 KiB it was once read into. Read whole, all are counted. */
static void
test_stat_many_cpus(void)
{
  g_autofree char *dir = g_dir_make_tmp("st-stat-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "stat", NULL);
  g_autoptr(GString) text = g_string_new("cpu  100 0 100 1000 0 0 0 0 0 0\n");
  g_autoptr(GByteArray) buf = g_byte_array_new();
  StCpuTimes t;
  gssize n;
  int fd;

  for (guint i = 0; i < 384; i++)
    g_string_append_printf(text, "cpu%u 1 0 1 10 0 0 0 0 0 0\n", i);
  g_string_append(text, "intr 123456789");
  for (guint i = 0; i < 20000; i++)
    g_string_append(text, " 0");
  g_string_append(text, "\nctxt 1\n");
  g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
  fd = open(dir, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint(fd, >=, 0);
  n = st_read_whole_file(fd, "stat", buf);
  close(fd);
  g_assert_cmpint(n, ==, (gssize)text->len);
  g_assert_true(st_parse_cpu_times((const char *)buf->data, (gsize)n, &t, NULL));
  g_assert_cmpuint(t.n_cpus, ==, 384);
  g_unlink(path);
  g_rmdir(dir);
}

static const char *const pid_files[] = {"stat", "statm", "cgroup", "cmdline"};

/* A process of its own application in a fake /proc. */
static void
add_fake_proc(const char *root, guint pid, const char *app)
{
  g_autofree char *dir = g_strdup_printf("%s/%u", root, pid);
  g_autofree char *stat = g_strdup_printf("%u (churn)" TAIL, pid);
  g_autofree char *cgroup = g_strdup_printf(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-%s-%u.scope\n", app,
      pid);
  const char *text[] = {stat, "1000 250 100 1 0 200 0\n", cgroup, "churn\0"};

  g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(pid_files); i++) {
    g_autofree char *path = g_build_filename(dir, pid_files[i], NULL);
    g_assert_true(g_file_set_contents(path, text[i], i == 3 ? 6 : -1, NULL));
  }
}

static void
remove_fake_proc(const char *root, guint pid)
{
  g_autofree char *dir = g_strdup_printf("%s/%u", root, pid);
  for (guint i = 0; i < G_N_ELEMENTS(pid_files); i++) {
    g_autofree char *path = g_build_filename(dir, pid_files[i], NULL);
    g_unlink(path);
  }
  g_rmdir(dir);
}

static guint
sample_apps(StCollector *c, guint64 now_s)
{
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(st_collector_sample(c, now_s * G_GUINT64_CONSTANT(1000000000), snap, &error));
  g_assert_no_error(error);
  return snap->apps->len;
}

/* The collector's .desktop descriptions: application ids come and go (one
 * per "systemd-run --user --unit app-x-<n>.scope"); once they are gone the
 * table is back to nothing: after a while, or at once past its cap. */
static void
test_app_cache_churn(void)
{
  g_autofree char *root = g_dir_make_tmp("st-proc-XXXXXX", NULL);
  g_autoptr(StCollector) c = NULL;
  g_autoptr(GError) error = NULL;
  const char *top[] = {"stat", "meminfo"};

  for (guint i = 0; i < G_N_ELEMENTS(top); i++) {
    gsize len;
    g_autofree char *text = fixture(top[i], &len);
    g_autofree char *path = g_build_filename(root, top[i], NULL);
    g_assert_true(g_file_set_contents(path, text, (gssize)len, NULL));
  }
  g_setenv("SMOOTHTASK_PROC_ROOT", root, TRUE);
  c = st_collector_new(ST_BACKEND_PROC);
  g_unsetenv("SMOOTHTASK_PROC_ROOT");
  g_assert_true(st_collector_init(c, &error));
  g_assert_no_error(error);

  /* A few: kept a while after they go (they may come back). */
  for (guint pid = 1000; pid < 1100; pid++) {
    g_autofree char *app = g_strdup_printf("org.example.Few%u", pid);
    add_fake_proc(root, pid, app);
  }
  g_assert_cmpuint(sample_apps(c, 1), ==, 100);
  g_assert_cmpuint(st_collector_get_n_cached_apps(c), ==, 100);
  for (guint pid = 1000; pid < 1100; pid++)
    remove_fake_proc(root, pid);
  g_assert_cmpuint(sample_apps(c, 2), ==, 0);
  g_assert_cmpuint(st_collector_get_n_cached_apps(c), ==, 100);
  g_assert_cmpuint(sample_apps(c, 2 + 600), ==, 0);
  g_assert_cmpuint(st_collector_get_n_cached_apps(c), ==, 0);

  /* 1,000 at once: all described while they live, none kept after. */
  for (guint pid = 2000; pid < 3000; pid++) {
    g_autofree char *app = g_strdup_printf("org.example.Many%u", pid);
    add_fake_proc(root, pid, app);
  }
  g_assert_cmpuint(sample_apps(c, 700), ==, 1000);
  g_assert_cmpuint(st_collector_get_n_cached_apps(c), ==, 1000);
  for (guint pid = 2000; pid < 3000; pid++)
    remove_fake_proc(root, pid);
  g_assert_cmpuint(sample_apps(c, 701), ==, 0);
  g_assert_cmpuint(st_collector_get_n_cached_apps(c), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS(top); i++) {
    g_autofree char *path = g_build_filename(root, top[i], NULL);
    g_unlink(path);
  }
  g_rmdir(root);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/procfs/pid-stat/names", test_pid_stat_names);
  g_test_add_func("/procfs/pid-stat/truncated", test_pid_stat_truncated);
  g_test_add_func("/procfs/statm", test_statm);
  g_test_add_func("/procfs/meminfo", test_meminfo);
  g_test_add_func("/procfs/cpu-times", test_cpu_times);
  g_test_add_func("/procfs/display-names", test_display_names);
  g_test_add_func("/procfs/process-gone", test_process_gone);
  g_test_add_func("/procfs/stat-many-cpus", test_stat_many_cpus);
  g_test_add_func("/procfs/app-cache-churn", test_app_cache_churn);
  return g_test_run();
}
