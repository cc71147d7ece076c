/* test-apps.c: applications from cgroups, pressure, and their alerts, on
 * fixture text and synthetic snapshots; and the collector's cache of their
 * descriptions, on a fake /proc. */
#include "st-cgroup.h"
#include "st-collector.h"
#include "st-engine.h"
#include "st-procfs-parse.h"

#include <string.h>
#include <glib/gstdio.h>

#define SEC G_GINT64_CONSTANT(1000000)

static void
check_cgroup(const char *text, const char *expected)
{
  g_autofree char *id = st_app_id_from_cgroup(text, strlen(text));
  g_assert_cmpstr(id, ==, expected);
}

static void
test_cgroup(void)
{
  const char *user = "0::/user.slice/user-1000.slice/user@1000.service/";

  /* GNOME: app-<launcher>-<id>-<random>.scope */
  {
    g_autofree char *t =
        g_strconcat(user, "app.slice/app-gnome-firefox\\x2desr-4242.scope\n", NULL);
    check_cgroup(t, "firefox-esr");
  }
  {
    g_autofree char *t =
        g_strconcat(user, "app.slice/app-gnome-org.gnome.Terminal-1234.scope\n", NULL);
    check_cgroup(t, "org.gnome.Terminal");
  }
  /* KDE: app-<id>@<random>.service, and app-<id>-<random>.scope */
  {
    g_autofree char *t = g_strconcat(user, "app.slice/app-org.kde.konsole@0a1b2c.service\n", NULL);
    check_cgroup(t, "org.kde.konsole");
  }
  {
    g_autofree char *t = g_strconcat(user, "app.slice/app-code-9f8e7d.scope\n", NULL);
    check_cgroup(t, "code");
  }
  /* A plain user service groups its processes. */
  {
    g_autofree char *t = g_strconcat(user, "session.slice/pipewire.service\n", NULL);
    check_cgroup(t, "pipewire");
  }
  {
    g_autofree char *t = g_strconcat(user, "session.slice/org.gnome.Shell@wayland.service\n", NULL);
    check_cgroup(t, "org.gnome.Shell");
  }
  /* Not applications: a login session, a system service, the root. */
  check_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n", NULL);
  check_cgroup("0::/system.slice/cron.service\n", NULL);
  check_cgroup("0::/\n", NULL);
  check_cgroup("", NULL);
  check_cgroup("garbage without colons", NULL);
  check_cgroup("0::", NULL);
  /* Found by fuzz-proc-text: an empty id is no id. */
  check_cgroup("0::/user.slice/user@1000.service/app-\\x00-1.scope\n", NULL);
  check_cgroup("0::/app--1.scope\n", NULL);
  /* Hybrid (cgroup v1 + named systemd hierarchy), as on this CI machine. */
  check_cgroup("9:name=systemd:/app-test-stgroup-4242.scope\n4:memory:/x\n0::/\n", "stgroup");
  /* An escape must not smuggle a slash or a NUL into the id. */
  {
    g_autofree char *t = g_strconcat(user, "app.slice/app-a\\x2fb\\x00c-1.scope\n", NULL);
    check_cgroup(t, "abc");
  }
  /* An id goes raw into signals, the alert command's environment and
   * ignored-processes: [A-Za-z0-9._-] or none at all. */
  {
    const char *hostile[] = {
        "app.slice/app-\xff\n<b>-1.scope\n",         "app.slice/app-\xff<b>-1.scope\n",
        "app.slice/app-gnome-\\x3cb\\x3e-1.scope\n", "app.slice/app-evil\xe2\x80\xaetxt-1.scope\n",
        "app.slice/app-a\\x0ab-1.scope\n",           "app.slice/app-two\\x20words@1.service\n",
        "session.slice/we\\x1bird.service\n",
    };
    for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
      g_autofree char *t = g_strconcat(user, hostile[i], NULL);
      check_cgroup(t, NULL);
    }
  }
}

static void
test_pressure(void)
{
  const char *mem = "some avg10=12.50 avg60=3.00 avg300=1.00 total=123456\n"
                    "full avg10=4.25 avg60=1.00 avg300=0.50 total=6789\n";
  const char *old_cpu = "some avg10=55.00 avg60=40.00 avg300=10.00 total=99\n";
  gdouble some, full;

  g_assert_true(st_parse_pressure(mem, strlen(mem), &some, &full, NULL));
  g_assert_cmpfloat(some, ==, 12.5);
  g_assert_cmpfloat(full, ==, 4.25);
  /* cpu before 5.13 has no "full" line: unknown, not 0. */
  g_assert_true(st_parse_pressure(old_cpu, strlen(old_cpu), &some, &full, NULL));
  g_assert_cmpfloat(some, ==, 55);
  g_assert_true(isnan(full));
  /* Truncated or garbage: an error, and NAN. */
  g_assert_false(st_parse_pressure("some avg1", 9, &some, &full, NULL));
  g_assert_true(isnan(some));
  g_assert_false(st_parse_pressure("some avg10=999.0\n", 17, &some, &full, NULL));
  g_assert_false(st_parse_pressure("", 0, &some, &full, NULL));
}

static void
add_proc(StSnapshot *snap, gint32 pid, const char *name, const char *app, gdouble cpu)
{
  StProcess p = {0};
  p.pid = pid;
  p.start_time = 7;
  g_strlcpy(p.comm, name, sizeof(p.comm));
  p.display_name = g_intern_string(name);
  p.app_id = g_intern_string(app);
  p.cpu_percent = cpu;
  p.rss_bytes = 1024 * 1024;
  p.syscalls_per_s = 10;
  g_array_append_val(snap->processes, p);
}

static void
describe(const char *id, char **name, char **icon, gpointer data)
{
  if (g_str_equal(id, "firefox")) {
    *name = g_strdup("Firefox Web Browser");
    *icon = g_strdup("firefox");
  }
}

static StSnapshot *
browser_snapshot(void)
{
  StSnapshot *snap = st_snapshot_new();
  snap->mem_total_bytes = G_GUINT64_CONSTANT(8) << 30;
  snap->mem_used_bytes = G_GUINT64_CONSTANT(1) << 30;
  snap->cpu_busy_percent = 20;
  /* Twelve content processes at 25% each: no single one over 90%. */
  for (int i = 0; i < 12; i++)
    add_proc(snap, 100 + i, "Web Content", "firefox", 25);
  add_proc(snap, 500, "loner", NULL, 95);
  add_proc(snap, 600, "editor", "code", 5);
  st_snapshot_group_apps(snap, describe, NULL);
  return snap;
}

static void
test_group_apps(void)
{
  g_autoptr(StSnapshot) snap = browser_snapshot();
  const StAppGroup *ff = st_snapshot_find_app(snap, "firefox");

  g_assert_cmpuint(snap->apps->len, ==, 2);
  g_assert_nonnull(ff);
  g_assert_cmpstr(ff->name, ==, "Firefox Web Browser");
  g_assert_cmpstr(ff->icon, ==, "firefox");
  g_assert_cmpuint(ff->n_processes, ==, 12);
  g_assert_cmpfloat(ff->cpu_percent, ==, 300);
  g_assert_cmpuint(ff->rss_bytes, ==, 12 * 1024 * 1024);
  /* Sorted by CPU, largest first; an app without a .desktop file keeps its id. */
  g_assert_cmpstr(g_array_index(snap->apps, StAppGroup, 0).id, ==, "firefox");
  g_assert_cmpstr(g_array_index(snap->apps, StAppGroup, 1).name, ==, "code");
}

static guint
count_kind(GPtrArray *d, StMetric metric, StDecisionKind kind, gint32 pid)
{
  guint n = 0;
  for (guint i = 0; i < d->len; i++) {
    StDecision *x = g_ptr_array_index(d, i);
    n += x->metric == metric && x->kind == kind && (pid < 0 || x->pid == pid);
  }
  return n;
}

static void
test_app_alert(void)
{
  g_autoptr(StEngine) engine = st_engine_new();
  g_autoptr(StSnapshot) snap = browser_snapshot();
  StEngineConfig c;
  guint app_raises = 0, proc_raises = 0;
  gint64 now = 100 * SEC;

  st_engine_config_set_defaults(&c);
  c.sustain_s = 5;
  st_engine_set_config(engine, &c);
  for (int i = 0; i < 8; i++) {
    g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      if (x->kind != ST_DECISION_RAISE)
        continue;
      if (x->metric == ST_METRIC_APP_CPU) {
        app_raises++;
        g_assert_cmpstr(x->name, ==, "Firefox Web Browser");
        g_assert_cmpstr(x->icon, ==, "firefox");
        g_assert_cmpfloat(x->value, ==, 300);
        g_assert_cmpstr(x->subject, ==, "app:firefox");
      } else if (x->metric == ST_METRIC_PROCESS_CPU) {
        proc_raises++;
        /* Only the process that belongs to no alerting application. */
        g_assert_cmpint(x->pid, ==, 500);
      }
    }
  }
  g_assert_cmpuint(app_raises, ==, 1);
  g_assert_cmpuint(proc_raises, ==, 1);

  /* The application quits: its alert ends as gone. */
  g_array_set_size(snap->processes, 0);
  st_snapshot_group_apps(snap, describe, NULL);
  {
    g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
    g_assert_cmpuint(count_kind(d, ST_METRIC_APP_CPU, ST_DECISION_CLEAR, -1), ==, 1);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      if (x->metric == ST_METRIC_APP_CPU)
        g_assert_cmpint(x->reason, ==, ST_CLEAR_EXITED);
    }
  }
  st_engine_config_clear(&c);
}

static void
test_pressure_alert(void)
{
  g_autoptr(StEngine) engine = st_engine_new();
  g_autoptr(StSnapshot) snap = browser_snapshot();
  StEngineConfig c;
  gint64 now = 100 * SEC;

  st_engine_config_set_defaults(&c);
  c.sustain_s = 30;
  st_engine_set_config(engine, &c);
  /* No PSI (NAN): never alerts. */
  for (int i = 0; i < 40; i++) {
    g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
    g_assert_cmpuint(count_kind(d, ST_METRIC_PRESSURE_MEMORY, ST_DECISION_RAISE, -1), ==, 0);
  }
  /* A PSI trigger fired: critical at once, naming who holds memory. */
  snap->pressure_memory_some = 2.0;
  snap->memory_stall_triggered = TRUE;
  {
    g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
    StDecision *x = NULL;
    for (guint j = 0; j < d->len; j++)
      if (((StDecision *)g_ptr_array_index(d, j))->metric == ST_METRIC_PRESSURE_MEMORY)
        x = g_ptr_array_index(d, j);
    g_assert_nonnull(x);
    g_assert_cmpint(x->kind, ==, ST_DECISION_RAISE);
    g_assert_cmpint(x->level, ==, ST_LEVEL_CRITICAL);
    g_assert_cmpuint(x->others->len, >, 0);
  }
  /* The average stays low once the trigger is quiet: it clears. */
  snap->memory_stall_triggered = FALSE;
  {
    g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
    g_assert_cmpuint(count_kind(d, ST_METRIC_PRESSURE_MEMORY, ST_DECISION_CLEAR, -1), ==, 1);
  }
  /* CPU pressure over its threshold, sustained. */
  snap->pressure_cpu_some = 70;
  {
    guint raises = 0;
    for (int i = 0; i < 35; i++) {
      g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now += SEC);
      raises += count_kind(d, ST_METRIC_PRESSURE_CPU, ST_DECISION_RAISE, -1);
    }
    g_assert_cmpuint(raises, ==, 1);
  }
  st_engine_config_clear(&c);
}

static const char *const pid_files[] = {"stat", "statm", "cgroup", "cmdline"};

static void
write_file(const char *path, const char *text, gssize len)
{
  g_autoptr(GError) error = NULL;

  /* Written in place: no temporary file and rename for each. */
  g_file_set_contents_full(path, text, len, G_FILE_SET_CONTENTS_NONE, 0644, &error);
  g_assert_no_error(error);
}

/* The fake /proc on tmpfs where there is one: its 4,400 files made and
 * removed on the disk took 12 to 23 s on a CI machine, 0.3 s on tmpfs. */
static char *
make_fake_proc_root(void)
{
  g_autofree char *shm = g_strdup("/dev/shm/st-proc-XXXXXX");
  g_autoptr(GError) error = NULL;
  char *root;

  if (g_mkdtemp(shm) != NULL)
    return g_steal_pointer(&shm);
  root = g_dir_make_tmp("st-proc-XXXXXX", &error);
  g_assert_no_error(error);
  return root;
}

/* A process of its own application in a fake /proc. */
static void
add_fake_proc(const char *root, guint pid, const char *app)
{
  g_autofree char *dir = g_strdup_printf("%s/%u", root, pid);
  g_autofree char *stat = g_strdup_printf(
      "%u (churn) S 1 %u %u 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 3 0 98765 1000000 250\n", pid,
      pid, pid);
  g_autofree char *cgroup = g_strdup_printf(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-%s-%u.scope\n", app,
      pid);
  const char *text[] = {stat, "1000 250 100 1 0 200 0\n", cgroup, "churn\0"};

  g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(pid_files); i++) {
    g_autofree char *path = g_build_filename(dir, pid_files[i], NULL);
    write_file(path, text[i], i == 3 ? 6 : -1);
  }
}

static void
remove_fake_proc(const char *root, guint pid)
{
  g_autofree char *dir = g_strdup_printf("%s/%u", root, pid);
  for (guint i = 0; i < G_N_ELEMENTS(pid_files); i++) {
    g_autofree char *path = g_build_filename(dir, pid_files[i], NULL);
    g_assert_cmpint(g_unlink(path), ==, 0);
  }
  g_assert_cmpint(g_rmdir(dir), ==, 0);
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
test_cache_churn(void)
{
  const char *top[] = {"stat", "meminfo"};
  const char *top_text[] = {"cpu  100 0 100 1000 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\n",
                            "MemTotal: 16000000 kB\nMemAvailable: 8000000 kB\n"};
  g_autofree char *root = make_fake_proc_root();
  g_autoptr(StCollector) c = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(top); i++) {
    g_autofree char *path = g_build_filename(root, top[i], NULL);
    write_file(path, top_text[i], -1);
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
    g_assert_cmpint(g_unlink(path), ==, 0);
  }
  g_assert_cmpint(g_rmdir(root), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/apps/cgroup", test_cgroup);
  g_test_add_func("/apps/pressure-parse", test_pressure);
  g_test_add_func("/apps/group", test_group_apps);
  g_test_add_func("/apps/alert", test_app_alert);
  g_test_add_func("/apps/pressure-alert", test_pressure_alert);
  g_test_add_func("/apps/cache-churn", test_cache_churn);
  return g_test_run();
}
