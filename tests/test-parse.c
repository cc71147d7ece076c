/* test-parse.c: exact values from the pure /proc parsers, on real-looking
 * kernel text, hostile names, cut and unterminated buffers; a /proc/stat of
 * hundreds of CPUs read whole; and a process that is gone between readdir()
 * and open(). The display names are in test-names.c. */
#include "st-backend.h"
#include "st-procfs-parse.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* A heap copy of exactly len bytes and no NUL after them: reading one byte
 * too far is caught by ASan and valgrind. */
static char *
exact(const char *text, gsize len)
{
  char *buf = g_malloc(MAX(len, 1));
  memcpy(buf, text, len);
  return buf;
}

static gboolean
parse_stat(const char *text, gsize len, StPidStat *st, GError **error)
{
  g_autofree char *buf = exact(text, len);
  return st_parse_pid_stat(buf, len, st, error);
}

static char *
fixture(const char *name, gsize *len)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  g_file_get_contents(path, &text, len, &error);
  g_assert_no_error(error);
  return text;
}

/* A /proc/<pid>/stat line as the kernel writes it, up to and including the
 * start time (field 22); cutime, cstime and nice are non-zero, nice negative. */
#define HEAD(comm)                                                                                 \
  "17832 (" comm ") R 17826 17826 4909 0 -1 4194304 103 0 2 0 1234 567 11 22 1 -19 3 0 "           \
  "4294967296123"
#define TAIL                                                                                       \
  " 6184960 409 18446744073709551615 94421454471168 94421454491049 140735938557728 0 0 0 0 0 0 "   \
  "0 0 0 17 1 0 0 0 0 0 94421454507056 94421454508672 94422218186752 140735938562690 "             \
  "140735938562710 140735938562710 140735938564075 0\n"

static void
check_line(const char *line, gsize len, const char *comm, gsize comm_len)
{
  g_autoptr(GError) error = NULL;
  StPidStat st;

  g_assert_true(parse_stat(line, len, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.pid, ==, 17832);
  g_assert_cmpmem(st.comm, strlen(st.comm), comm, comm_len);
  g_assert_cmpint(st.state, ==, 'R');
  g_assert_cmpint(st.ppid, ==, 17826);
  g_assert_cmpuint(st.utime_ticks, ==, 1234);
  g_assert_cmpuint(st.stime_ticks, ==, 567);
  g_assert_cmpint(st.num_threads, ==, 3);
  g_assert_cmpuint(st.start_ticks, ==, G_GUINT64_CONSTANT(4294967296123));
}

#define CHECK_COMM(comm)                                                                           \
  check_line(HEAD(comm) TAIL, sizeof(HEAD(comm) TAIL) - 1, comm, sizeof(comm) - 1)

static void
test_pid_stat_normal(void)
{
  CHECK_COMM("cat");
  /* Without the trailing newline, and with nothing after field 23. */
  check_line(HEAD("cat") " 6184960", sizeof(HEAD("cat") " 6184960") - 1, "cat", 3);
}

static void
test_pid_stat_hostile_comm(void)
{
  CHECK_COMM("Web Content");
  CHECK_COMM("a) 1 (b");
  CHECK_COMM(")(");
  CHECK_COMM("))");
  CHECK_COMM("(");
  CHECK_COMM(") R 1 2 3 (");
  CHECK_COMM("two\nlines");
  CHECK_COMM("\n");
  CHECK_COMM("\xff\xfe");
  CHECK_COMM("\xff\xfe\x01\x1b[0m");
  CHECK_COMM("\xff\xfe bad");
  CHECK_COMM("<b>x</b>&\"");
  CHECK_COMM("");
}

static void
test_pid_stat_long_comm(void)
{
  g_autoptr(GError) error = NULL;
  const char line[] = HEAD("0123456789abcdefXYZ") TAIL;
  StPidStat st;

  /* Never from the kernel, but never past the 16 bytes of the struct. */
  g_assert_true(parse_stat(line, sizeof(line) - 1, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(st.comm, ==, "0123456789abcde");
  g_assert_cmpuint(st.start_ticks, ==, G_GUINT64_CONSTANT(4294967296123));
}

static void
expect_truncated(const char *text, gsize len)
{
  g_autoptr(GError) error = NULL;
  StPidStat st;

  g_assert_false(parse_stat(text, len, &st, &error));
  g_assert_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED);
}

#define TRUNC(lit) expect_truncated(lit, sizeof(lit) - 1)

static void
test_pid_stat_truncated(void)
{
  const char full[] = HEAD("a) 1 (b") TAIL;
  const gsize head_len = sizeof(HEAD("a) 1 (b")) - 1;
  StPidStat st;

  TRUNC("");
  TRUNC("17832");
  TRUNC("17832 (");
  TRUNC("17832 (cat");
  TRUNC("17832 (cat)"); /* right after the comm */
  TRUNC("17832 (cat) ");
  TRUNC("17832 (cat) R");
  TRUNC("17832 (cat) R 17826 17826 4909 0 -1");                      /* among the skipped fields */
  TRUNC("17832 (cat) R 17826 17826 4909 0 -1 4194304 103 0 2 0 12"); /* utime */
  TRUNC("17832 (cat)\n");
  /* A comm holding ") 1 (" cut inside it: the fake ')' must not pass. */
  TRUNC("17832 (a) 1 (b");
  TRUNC("17832 (a) 1 (b) R 1");

  /* Every prefix up to the last digit of the start time is an error: cut
   * inside that number, the value would be wrong. */
  for (gsize len = 0; len <= head_len; len++)
    expect_truncated(full, len);
  g_assert_true(parse_stat(full, head_len + 1, &st, NULL));
  g_assert_cmpuint(st.start_ticks, ==, G_GUINT64_CONSTANT(4294967296123));

  /* The same bytes in memory, but a length that stops before them: the
   * parser must not look at what follows. */
  g_assert_false(st_parse_pid_stat(full, head_len, &st, NULL));
  g_assert_false(st_parse_pid_stat(full, 11, &st, NULL));
}

static void
test_pid_stat_invalid_pid(void)
{
  StPidStat st;

  /* The same line with a valid pid parses: only the pid is wrong below. */
  g_assert_true(parse_stat("7 (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n", 50, &st, NULL));
  g_assert_cmpint(st.pid, ==, 7);
  g_assert_cmpuint(st.start_ticks, ==, 5);
  TRUNC("-5 (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
  TRUNC("0 (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
  TRUNC("2147483648 (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
  TRUNC("(x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
  TRUNC("x (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
  TRUNC("99999999999999999999 (x) R 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0\n");
}

static void
test_pid_stat_self(void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  StPidStat st;

  g_file_get_contents("/proc/self/stat", &text, &len, &error);
  g_assert_no_error(error);
  g_assert_true(parse_stat(text, len, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpint(st.pid, ==, getpid());
  g_assert_cmpint(st.ppid, ==, getppid());
  g_assert_cmpint(st.state, ==, 'R');
  g_assert_cmpint(st.num_threads, >=, 1);
  g_assert_cmpuint(st.start_ticks, >, 0);
}

static void
test_statm(void)
{
  const char line[] = "1510 409 356 5 0 85 0\n";
  g_autoptr(GError) error = NULL;
  g_autofree char *buf = exact(line, sizeof(line) - 1);
  guint64 resident = 0;

  g_assert_true(st_parse_statm(buf, sizeof(line) - 1, &resident, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(resident, ==, 409);
  /* Stopped by the length, not by what follows in memory. */
  g_assert_true(st_parse_statm(line, 7, &resident, NULL));
  g_assert_cmpuint(resident, ==, 40);

  const char *bad[] = {"",        "1510",   "1510 ",  "1510\n409",
                       "abc def", "1510 x", "-1 409", "99999999999999999999 1"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) err = NULL;
    g_autofree char *b = exact(bad[i], strlen(bad[i]));
    resident = 77;
    g_assert_false(st_parse_statm(b, strlen(bad[i]), &resident, &err));
    g_assert_error(err, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED);
  }
}

#define KIB(n) (G_GUINT64_CONSTANT(n) * 1024)

static void
test_meminfo_fixture(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *buf = NULL;
  gsize len;
  StMemInfo mi;

  /* Captured with cat /proc/meminfo: 24684084, 24299060, 0 and 0 kB. */
  text = fixture("parse-meminfo", &len);
  buf = exact(text, len);
  g_assert_true(st_parse_meminfo(buf, len, &mi, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(mi.total_bytes, ==, KIB(24684084));
  g_assert_cmpuint(mi.available_bytes, ==, KIB(24299060));
  g_assert_cmpuint(mi.swap_total_bytes, ==, 0);
  g_assert_cmpuint(mi.swap_free_bytes, ==, 0);
}

static void
expect_meminfo_error(const char *text, gint code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *buf = exact(text, strlen(text));
  StMemInfo mi;

  g_assert_false(st_parse_meminfo(buf, strlen(text), &mi, &error));
  g_assert_error(error, ST_PARSE_ERROR, code);
}

static void
test_meminfo_handmade(void)
{
  const char text[] = "MemTotal:       16000000 kB\nMemFree:          100 kB\n"
                      "MemAvailable:    4000000 kB\nSwapCached:     7 kB\n"
                      "SwapTotal:       2000000 kB\nSwapFree:         500000 kB\n";
  /* Up to and with the last digit of MemAvailable: a number the buffer
   * ends in may have been cut ("4" of "4000000"). */
  const gsize avail_digits = strstr(text, "4000000 kB") - text + strlen("4000000");
  g_autofree char *buf = exact(text, sizeof(text) - 1);
  g_autofree char *real = NULL;
  g_autofree char *no_avail = NULL;
  const char *avail;
  gsize len;
  StMemInfo mi;

  g_assert_true(st_parse_meminfo(buf, sizeof(text) - 1, &mi, NULL));
  g_assert_cmpuint(mi.total_bytes, ==, KIB(16000000));
  g_assert_cmpuint(mi.available_bytes, ==, KIB(4000000));
  g_assert_cmpuint(mi.swap_total_bytes, ==, KIB(2000000));
  g_assert_cmpuint(mi.swap_free_bytes, ==, KIB(500000));

  /* Cut anywhere: never a read past the length (ASan); cut before the end
   * of MemAvailable's number, an error. */
  for (len = 0; len < sizeof(text) - 1; len++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *cut = exact(text, len);
    gboolean ok = st_parse_meminfo(cut, len, &mi, &error);
    g_assert_true(ok == (error == NULL));
    if (len <= avail_digits)
      g_assert_false(ok);
  }

  /* The real file without its MemAvailable line (kernels before 3.14). */
  real = fixture("parse-meminfo", &len);
  avail = strstr(real, "MemAvailable:");
  g_assert_nonnull(avail);
  no_avail = g_strdup_printf("%.*s%s", (int)(avail - real), real, strchr(avail, '\n') + 1);
  g_assert_null(strstr(no_avail, "MemAvailable"));
  expect_meminfo_error(no_avail, ST_PARSE_ERROR_TRUNCATED);

  expect_meminfo_error("", ST_PARSE_ERROR_TRUNCATED);
  expect_meminfo_error("MemAvailable: 100 kB\n", ST_PARSE_ERROR_TRUNCATED);
  expect_meminfo_error("MemTotal: abc kB\nMemAvailable: 1 kB\n", ST_PARSE_ERROR_INVALID);
  expect_meminfo_error("MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n",
                       ST_PARSE_ERROR_INVALID);

  /* Never more available than total, nor more swap free than swap. */
  g_assert_true(st_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB\nSwapTotal: 1 kB\n"
                                 "SwapFree: 2 kB\n",
                                 67, &mi, NULL));
  g_assert_cmpuint(mi.available_bytes, ==, KIB(10));
  g_assert_cmpuint(mi.swap_free_bytes, ==, KIB(1));
}

static void
test_cpu_times_fixture(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *buf = NULL;
  gsize len;
  StCpuTimes t;

  /* cpu  301639 0 327782 1369920 1587 0 338 342 0 0, then cpu0 and cpu1. */
  text = fixture("parse-stat", &len);
  buf = exact(text, len);
  g_assert_true(st_parse_cpu_times(buf, len, &t, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(t.n_cpus, ==, 2);
  g_assert_cmpuint(t.user, ==, 301639);
  g_assert_cmpuint(t.nice, ==, 0);
  g_assert_cmpuint(t.system, ==, 327782);
  g_assert_cmpuint(t.idle, ==, 1369920);
  g_assert_cmpuint(t.iowait, ==, 1587);
  g_assert_cmpuint(t.irq, ==, 0);
  g_assert_cmpuint(t.softirq, ==, 338);
  g_assert_cmpuint(t.steal, ==, 342);
}

static void
expect_cpu_error(const char *text, gint code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *buf = exact(text, strlen(text));
  StCpuTimes t;

  g_assert_false(st_parse_cpu_times(buf, strlen(text), &t, &error));
  g_assert_error(error, ST_PARSE_ERROR, code);
}

static void
test_cpu_times_errors(void)
{
  StCpuTimes t;

  expect_cpu_error("", ST_PARSE_ERROR_INVALID);
  expect_cpu_error("cpu0 1 2 3 4 5 6 7 8\ncpu1 1 2 3 4 5 6 7 8\nintr 1\n", ST_PARSE_ERROR_INVALID);
  expect_cpu_error("cpu  1 2 3\ncpu0 1 2 3 4\n", ST_PARSE_ERROR_TRUNCATED);
  expect_cpu_error("cpu  1 2 3", ST_PARSE_ERROR_TRUNCATED);
  expect_cpu_error("cpu  x 2 3 4\n", ST_PARSE_ERROR_TRUNCATED);
  expect_cpu_error("cpu  1 2\n", ST_PARSE_ERROR_TRUNCATED);
  expect_cpu_error("intr 1\n", ST_PARSE_ERROR_INVALID);

  /* Four fields (before 2.5.41) are enough; the rest stay zero. */
  g_assert_true(st_parse_cpu_times("cpu  1 2 3 4\ncpu0 1 2 3 4\n", 26, &t, NULL));
  g_assert_cmpuint(t.user, ==, 1);
  g_assert_cmpuint(t.nice, ==, 2);
  g_assert_cmpuint(t.system, ==, 3);
  g_assert_cmpuint(t.idle, ==, 4);
  g_assert_cmpuint(t.iowait + t.irq + t.softirq + t.steal, ==, 0);
  g_assert_cmpuint(t.n_cpus, ==, 1);
}

static void
test_cpu_times_delta(void)
{
  StCpuTimes a = {.user = 100, .nice = 20, .system = 50, .idle = 800, .iowait = 30, .steal = 5};
  StCpuTimes b = a;
  gdouble busy = -1, user = -1, sys = -1, idle = -1;

  /* +80 user (60 + 20 nice), +40 system (30 + 5 irq + 5 softirq), +280
   * idle (260 + 20 iowait): 400 ticks; steal is left out of the whole. */
  b.user += 60;
  b.nice += 20;
  b.system += 30;
  b.irq += 5;
  b.softirq += 5;
  b.idle += 260;
  b.iowait += 20;
  b.steal += 1000;
  g_assert_true(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
  g_assert_cmpfloat_with_epsilon(busy, 30.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(user, 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(sys, 10.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(idle, 70.0, 1e-9);

  /* Backwards, still or one share backwards while the total moves on. */
  g_assert_false(st_cpu_times_delta(&b, &a, &busy, &user, &sys, &idle));
  g_assert_false(st_cpu_times_delta(&a, &a, &busy, &user, &sys, &idle));
  b = a;
  b.user -= 1;
  b.idle += 100;
  g_assert_false(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
  b = a;
  b.steal += 100; /* only steal moved: no figure */
  g_assert_false(st_cpu_times_delta(&a, &b, &busy, &user, &sys, &idle));
}

/* /proc/stat grows with the CPUs and the interrupt line: 384 CPUs did not
 * fit the 16 KiB it was once read into. Read whole, all are counted. */
static void
test_cpu_times_many_cpus(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("st-stat-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *copy = NULL;
  g_autoptr(GString) text = g_string_new("cpu  100 0 100 1000 0 0 0 0 0 0\n");
  g_autoptr(GByteArray) buf = g_byte_array_new();
  StCpuTimes t;
  gssize n;
  int fd;

  g_assert_no_error(error);
  for (guint i = 0; i < 384; i++)
    g_string_append_printf(text, "cpu%u 1 0 1 10 0 0 0 0 0 0\n", i);
  g_string_append(text, "intr 123456789");
  for (guint i = 0; i < 20000; i++)
    g_string_append(text, " 0");
  g_string_append(text, "\nctxt 1\n");
  g_assert_cmpuint(text->len, >, 16384);
  path = g_build_filename(dir, "stat", NULL);
  g_file_set_contents(path, text->str, (gssize)text->len, &error);
  g_assert_no_error(error);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  n = st_read_whole_file(fd, "stat", buf);
  close(fd);
  g_assert_cmpint(n, ==, (gssize)text->len);
  g_assert_cmpmem(buf->data, (gsize)n, text->str, text->len);
  copy = exact((const char *)buf->data, (gsize)n);
  g_assert_true(st_parse_cpu_times(copy, (gsize)n, &t, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(t.n_cpus, ==, 384);
  g_assert_cmpuint(t.user, ==, 100);
  g_assert_cmpuint(t.idle, ==, 1000);
  g_assert_cmpint(g_unlink(path), ==, 0);
  g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_process_gone(void)
{
  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[1024], path[64];
  siginfo_t info;
  StPidStat st;
  gssize n;
  pid_t pid;

  g_assert_cmpint(procfd, >=, 0);
  /* A pid that cannot exist (above pid_max's ceiling of 2^22). */
  errno = 0;
  g_assert_cmpint(st_read_small_file(procfd, "2147483647/stat", buf, sizeof(buf)), ==, -1);
  g_assert_cmpint(errno, ==, ENOENT);

  /* A child that exited: as a zombie, still readable, state Z, no command
   * line; once reaped, gone, as between readdir() and open(). */
  pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0)
    _exit(0);
  g_assert_cmpint(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), ==, 0);
  g_snprintf(path, sizeof(path), "%d/stat", pid);
  n = st_read_small_file(procfd, path, buf, sizeof(buf));
  g_assert_cmpint(n, >, 0);
  g_assert_cmpint(buf[n], ==, '\0');
  g_assert_true(st_parse_pid_stat(buf, (gsize)n, &st, NULL));
  g_assert_cmpint(st.pid, ==, pid);
  g_assert_cmpint(st.ppid, ==, getpid());
  g_assert_cmpint(st.state, ==, 'Z');
  g_snprintf(path, sizeof(path), "%d/cmdline", pid);
  g_assert_cmpint(st_read_small_file(procfd, path, buf, sizeof(buf)), ==, 0);

  g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
  g_snprintf(path, sizeof(path), "%d/stat", pid);
  errno = 0;
  g_assert_cmpint(st_read_small_file(procfd, path, buf, sizeof(buf)), ==, -1);
  g_assert_cmpint(errno, ==, ENOENT);

  /* A small buffer: size - 1 bytes and a NUL. */
  g_assert_cmpint(st_read_small_file(procfd, "self/stat", buf, 8), ==, 7);
  g_assert_cmpint(buf[7], ==, '\0');
  close(procfd);
}

static gboolean
fake_whole_disk(const char *name, gpointer data)
{
  /* As /sys/block would say: vda and nvme0n1 are disks, vda1 is not. */
  return g_strcmp0(name, "vda") == 0 || g_strcmp0(name, "nvme0n1") == 0;
}

static void
test_io_totals(void)
{
  const char *diskstats =
      "   7       0 loop0 100 0 9000 10 0 0 0 0 0 10 10 0 0 0 0 0 0\n"
      " 253       0 vda 3000 10 200000 900 500 20 40000 100 0 1000 1000 0 0 0 0 0 0\n"
      " 253       1 vda1 2900 10 199000 890 500 20 40000 100 0 990 990 0 0 0 0 0 0\n"
      " 259       0 nvme0n1 10 0 8 1 2 0 16 1 0 2 2\n"
      " 252       0 dm-0 3000 0 200000 900 500 0 40000 100 0 1000 1000\n";
  const char *net_dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
      "    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0\n"
      "  eth0: 123456 100 0 0 0 0 0 0 654321 90 0 0 0 0 0 0\n"
      "wlan0:1000 1 0 0 0 0 0 0 2000 2 0 0 0 0 0 0\n";
  const char *pid_io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\n"
                       "write_bytes: 8192\ncancelled_write_bytes: 0\n";
  StIoTotals io = {0};
  guint64 rd, wr;
  g_autoptr(GError) error = NULL;

  g_assert_true(st_parse_diskstats(diskstats, strlen(diskstats), fake_whole_disk, NULL, &io, NULL));
  g_assert_cmpuint(io.disk_read_bytes, ==, (200000 + 8) * 512);
  g_assert_cmpuint(io.disk_write_bytes, ==, (40000 + 16) * 512);
  g_assert_true(st_parse_net_dev(net_dev, strlen(net_dev), &io, NULL));
  g_assert_cmpuint(io.net_rx_bytes, ==, 123456 + 1000);
  g_assert_cmpuint(io.net_tx_bytes, ==, 654321 + 2000);
  g_assert_cmpuint(io.loop_bytes, ==, 5000);
  g_assert_true(st_parse_pid_io(pid_io, strlen(pid_io), &rd, &wr, NULL));
  g_assert_cmpuint(rd, ==, 4096);
  g_assert_cmpuint(wr, ==, 8192);
  /* Cut short: an error, never a half reading. */
  g_assert_false(st_parse_pid_io(pid_io, 40, &rd, &wr, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_false(st_parse_diskstats(diskstats, 25, fake_whole_disk, NULL, &io, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_false(st_parse_net_dev("  eth0: 123 4 0\n", 16, &io, &error));
  g_assert_nonnull(error);
}

/* The vmstat counters a sample reads; a line missing or cut short is
 * unknown (G_MAXUINT64), not 0; none at all is an error. */
static void
test_vmstat(void)
{
  const char text[] = "nr_free_pages 1000\nnr_dirtied 5000\nnr_written 4000\n"
                      "pgpgin 123\npgpgout 456\noom_kill 2\n";
  const char cut[] = "nr_dirtied 5000\npgpgin 12";
  g_autofree char *buf = exact(text, sizeof(text) - 1);
  g_autofree char *cut_buf = exact(cut, sizeof(cut) - 1);
  g_autofree char *none = exact("nr_free_pages 1\n", 16);
  StVmStat v;

  g_assert_true(st_parse_vmstat(buf, sizeof(text) - 1, &v, NULL));
  g_assert_cmpuint(v.oom_kills, ==, 2);
  g_assert_cmpuint(v.pgpgin_kib, ==, 123);
  g_assert_cmpuint(v.pgpgout_kib, ==, 456);
  g_assert_cmpuint(v.nr_dirtied, ==, 5000);
  /* Buffer ends inside "pgpgin 12": what was read is what is known. */
  g_assert_true(st_parse_vmstat(cut_buf, sizeof(cut) - 1, &v, NULL));
  g_assert_cmpuint(v.nr_dirtied, ==, 5000);
  g_assert_cmpuint(v.pgpgin_kib, ==, 12);
  g_assert_cmpuint(v.oom_kills, ==, G_MAXUINT64);
  g_assert_cmpuint(v.pgpgout_kib, ==, G_MAXUINT64);
  g_assert_false(st_parse_vmstat(none, 16, &v, NULL));
}

/* AnonPages + Mapped bound every RSS; without either line, no bound. */
static void
test_meminfo_resident_bound(void)
{
  const char text[] = "MemTotal: 1000 kB\nMemAvailable: 500 kB\nAnonPages: 100 kB\n"
                      "Mapped: 20 kB\n";
  const char no_mapped[] = "MemTotal: 1000 kB\nMemAvailable: 500 kB\nAnonPages: 100 kB\n";
  g_autofree char *buf = exact(text, sizeof(text) - 1);
  g_autofree char *buf2 = exact(no_mapped, sizeof(no_mapped) - 1);
  StMemInfo mi;

  g_assert_true(st_parse_meminfo(buf, sizeof(text) - 1, &mi, NULL));
  g_assert_cmpuint(mi.resident_bound_bytes, ==, 120 * 1024);
  g_assert_true(st_parse_meminfo(buf2, sizeof(no_mapped) - 1, &mi, NULL));
  g_assert_cmpuint(mi.resident_bound_bytes, ==, G_MAXUINT64);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/parse/pid-stat/normal", test_pid_stat_normal);
  g_test_add_func("/parse/pid-stat/hostile-comm", test_pid_stat_hostile_comm);
  g_test_add_func("/parse/pid-stat/long-comm", test_pid_stat_long_comm);
  g_test_add_func("/parse/pid-stat/truncated", test_pid_stat_truncated);
  g_test_add_func("/parse/pid-stat/invalid-pid", test_pid_stat_invalid_pid);
  g_test_add_func("/parse/pid-stat/self", test_pid_stat_self);
  g_test_add_func("/parse/statm", test_statm);
  g_test_add_func("/parse/meminfo/fixture", test_meminfo_fixture);
  g_test_add_func("/parse/meminfo/handmade", test_meminfo_handmade);
  g_test_add_func("/parse/cpu-times/fixture", test_cpu_times_fixture);
  g_test_add_func("/parse/cpu-times/errors", test_cpu_times_errors);
  g_test_add_func("/parse/cpu-times/delta", test_cpu_times_delta);
  g_test_add_func("/parse/cpu-times/many-cpus", test_cpu_times_many_cpus);
  g_test_add_func("/parse/process-gone", test_process_gone);
  g_test_add_func("/parse/io-totals", test_io_totals);
  g_test_add_func("/parse/vmstat", test_vmstat);
  g_test_add_func("/parse/meminfo-resident-bound", test_meminfo_resident_bound);
  return g_test_run();
}
