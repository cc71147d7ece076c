/* test-rss-flavour.c: the BPF iterator's pre-6.2 RSS flavour (atomic
 * mm_rss_stat counters), forced with SMOOTHTASK_TEST_BPF_OLD_RSS=1, against
 * a 64 MiB toucher. On Linux 6.2+ that flavour cannot load at all (its CO-RE
 * relocations name mm_rss_stat, which is gone): the test skips saying so. */
#include "config.h"

#include "st-collector.h"
#include "st-procfs-parse.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_BPF
#include <bpf/btf.h>
#endif

#define TOUCH_BYTES (64u * 1024 * 1024)

/* Whether the running kernel still has the pre-6.2 layout. */
static gboolean
kernel_has_mm_rss_stat(void)
{
#ifdef HAVE_BPF
  struct btf *btf = btf__load_vmlinux_btf();
  gboolean found;
  if (btf == NULL)
    return FALSE;
  found = btf__find_by_name_kind(btf, "mm_rss_stat", BTF_KIND_STRUCT) >= 0;
  btf__free(btf);
  return found;
#else
  return FALSE;
#endif
}

static pid_t
start_toucher(void)
{
  int ready[2];
  char b = 1;
  pid_t pid;

  g_assert_no_errno(pipe(ready));
  pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    volatile char *p = g_malloc(TOUCH_BYTES);
    for (gsize i = 0; i < TOUCH_BYTES; i += 4096)
      p[i] = (char)i;
    if (write(ready[1], &b, 1) != 1)
      _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  g_assert_cmpint(read(ready[0], &b, 1), ==, 1);
  close(ready[0]);
  return pid;
}

static void
test_old_rss_flavour(void)
{
  g_autoptr(StCollector) c = st_collector_new(ST_BACKEND_BPF);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL, *statm = NULL;
  const StProcess *p;
  guint64 resident;
  gdouble expect;
  gsize len;
  pid_t pid;

  g_setenv("SMOOTHTASK_TEST_BPF_OLD_RSS", "1", TRUE);
  if (!st_collector_init(c, &error)) {
    g_assert_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED);
    if (geteuid() == 0 && kernel_has_mm_rss_stat())
      g_error("the pre-6.2 RSS flavour refused on a kernel with mm_rss_stat: %s", error->message);
    g_test_skip_printf("the pre-6.2 RSS flavour cannot load here (%s): %s",
                       geteuid() != 0 ? "not root"
                                      : "mm_rss_stat is gone since Linux 6.2, so its CO-RE "
                                        "relocations fail",
                       error->message);
    return;
  }
  g_assert_true(st_collector_sample(c, (guint64)g_get_monotonic_time() * 1000, snap, NULL));
  pid = start_toucher();
  g_assert_true(st_collector_sample(c, (guint64)g_get_monotonic_time() * 1000, snap, NULL));
  p = st_snapshot_find(snap, pid);
  g_assert_nonnull(p);
  path = g_strdup_printf("/proc/%d/statm", pid);
  g_assert_true(g_file_get_contents(path, &statm, &len, NULL));
  g_assert_true(st_parse_statm(statm, len, &resident, NULL));
  expect = (gdouble)resident * (gdouble)sysconf(_SC_PAGESIZE);
  g_test_message("toucher: RSS %" G_GUINT64_FORMAT " bytes, statm %.0f", p->rss_bytes, expect);
  g_assert_cmpfloat(expect, >=, TOUCH_BYTES);
  g_assert_cmpfloat((gdouble)p->rss_bytes, >=, expect * 0.95);
  g_assert_cmpfloat((gdouble)p->rss_bytes, <=, expect * 1.05);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/collector/bpf/old-rss-flavour", test_old_rss_flavour);
  return g_test_run();
}
