/* test-engine.c: the alert state machine with synthetic snapshots and a fake
 * clock. No kernel, no bus, no settings. */
#include "st-engine.h"
#include "st-format.h"

#include <string.h>

#define SEC G_GINT64_CONSTANT(1000000)

typedef struct {
  StEngine *engine;
  StEngineConfig config;
  StSnapshot *snap;
  gint64 now;
} Fixture;

static void
set_proc(StSnapshot *snap, gint32 pid, const char *name, gdouble cpu, guint64 rss, gdouble syscalls)
{
  StProcess p = {0};
  guint i;

  for (i = 0; i < snap->processes->len; i++) {
    StProcess *q = &g_array_index(snap->processes, StProcess, i);
    if (q->pid == pid) {
      q->cpu_percent = cpu;
      q->rss_bytes = rss;
      q->syscalls_per_s = syscalls;
      return;
    }
    if (q->pid > pid)
      break;
  }
  p.pid = pid;
  p.start_time = 1000 + (guint64)pid;
  g_strlcpy(p.comm, name, sizeof(p.comm));
  p.display_name = g_intern_string(name);
  p.cpu_percent = cpu;
  p.rss_bytes = rss;
  p.syscalls_per_s = syscalls;
  g_array_insert_val(snap->processes, i, p);
}

static void
remove_proc(StSnapshot *snap, gint32 pid)
{
  for (guint i = 0; i < snap->processes->len; i++)
    if (g_array_index(snap->processes, StProcess, i).pid == pid) {
      g_array_remove_index(snap->processes, i);
      return;
    }
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->engine = st_engine_new();
  st_engine_config_set_defaults(&f->config);
  f->config.sustain_s = 10;
  f->config.cooldown_s = 60;
  f->config.hysteresis_percent = 10;
  f->config.threshold[ST_METRIC_CPU] = 80;
  f->config.threshold[ST_METRIC_PROCESS_CPU] = 90;
  f->config.threshold[ST_METRIC_MEMORY] = 90;
  f->config.memory_critical = 97;
  st_engine_set_config(f->engine, &f->config);
  f->snap = st_snapshot_new();
  f->snap->n_cpus = 2;
  f->snap->interval_s = 1;
  f->snap->cpu_busy_percent = 10;
  f->snap->mem_total_bytes = 1000 * 1024 * 1024;
  f->snap->mem_used_bytes = 100 * 1024 * 1024;
  f->snap->syscalls_per_s = 100;
  f->now = 1000 * SEC;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  st_engine_free(f->engine);
  st_engine_config_clear(&f->config);
  st_snapshot_free(f->snap);
}

static void
apply(Fixture *f)
{
  st_engine_set_config(f->engine, &f->config);
}

/* Advances the fake clock by one second and evaluates. */
static GPtrArray *
tick(Fixture *f)
{
  f->now += SEC;
  return st_engine_evaluate(f->engine, f->snap, f->now);
}

/* Runs n ticks and counts decisions of a kind for a metric. */
static guint
run(Fixture *f, guint n, StMetric metric, StDecisionKind kind)
{
  guint count = 0;
  for (guint i = 0; i < n; i++) {
    g_autoptr(GPtrArray) d = tick(f);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      if (x->metric == metric && x->kind == kind)
        count++;
    }
  }
  return count;
}

static StDecision *
find(GPtrArray *d, StMetric metric, StDecisionKind kind)
{
  for (guint j = 0; j < d->len; j++) {
    StDecision *x = g_ptr_array_index(d, j);
    if (x->metric == metric && x->kind == kind)
      return x;
  }
  return NULL;
}

static void
test_sustain(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 95;
  /* The first sample over the threshold is an average over the second
   * before it: over since then. Nine samples: 9 s over, pending. */
  g_assert_cmpuint(run(f, 9, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  /* The tenth: 10 s over, it fires, once. */
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *raise = find(d, ST_METRIC_CPU, ST_DECISION_RAISE);
    g_assert_nonnull(raise);
    g_assert_cmpstr(raise->subject, ==, "system");
    g_assert_cmpfloat(raise->value, ==, 95);
    g_assert_cmpfloat(raise->over_s, >=, 10);
  }
  /* Firing, value unchanged: no more decisions. */
  g_assert_cmpuint(run(f, 30, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  g_assert_cmpuint(run(f, 1, ST_METRIC_CPU, ST_DECISION_UPDATE), ==, 0);
}

static void
test_memory_is_a_level(Fixture *f, gconstpointer data)
{
  /* Memory in use is a level, not an average: it counts from the sample
   * that saw it. 10 s of sustain take 11 samples. */
  f->snap->mem_used_bytes = f->snap->mem_total_bytes * 92 / 100;
  g_assert_cmpuint(run(f, 10, ST_METRIC_MEMORY, ST_DECISION_RAISE), ==, 0);
  g_assert_cmpuint(run(f, 1, ST_METRIC_MEMORY, ST_DECISION_RAISE), ==, 1);
}

static void
test_short_burst(Fixture *f, gconstpointer data)
{
  /* A burst shorter than sustain never alerts, however often it comes. */
  for (int round = 0; round < 20; round++) {
    f->snap->cpu_busy_percent = 99;
    g_assert_cmpuint(run(f, 5, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
    f->snap->cpu_busy_percent = 20;
    g_assert_cmpuint(run(f, 1, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  }
  g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 0);
}

static void
test_hysteresis(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 12, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
  /* Below the threshold (80) but inside the band (72..80): still firing. */
  f->snap->cpu_busy_percent = 75;
  g_assert_cmpuint(run(f, 20, ST_METRIC_CPU, ST_DECISION_CLEAR), ==, 0);
  /* Below 72: clears once, with a recovery to show. */
  f->snap->cpu_busy_percent = 71;
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_true(clear->notify);
    g_assert_cmpint(clear->reason, ==, ST_CLEAR_RECOVERED);
  }
  g_assert_cmpuint(run(f, 5, ST_METRIC_CPU, ST_DECISION_CLEAR), ==, 0);
}

static void
test_update_in_place(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 85;
  g_assert_cmpuint(run(f, 12, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
  /* A small wobble is not news; a real change is an update, not a raise. */
  f->snap->cpu_busy_percent = 86;
  g_assert_cmpuint(run(f, 3, ST_METRIC_CPU, ST_DECISION_UPDATE), ==, 0);
  f->snap->cpu_busy_percent = 99;
  g_assert_cmpuint(run(f, 3, ST_METRIC_CPU, ST_DECISION_UPDATE), ==, 1);
  g_assert_cmpuint(run(f, 3, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
}

static void
test_cooldown(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 12, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
  f->snap->cpu_busy_percent = 10;
  g_assert_cmpuint(run(f, 1, ST_METRIC_CPU, ST_DECISION_CLEAR), ==, 1);
  /* Back over within the cooldown (60 s since the raise): fires silently. */
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 30, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  /* Once the cooldown has passed, and still over, it is said again. */
  g_assert_cmpuint(run(f, 30, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
}

static void
test_processes(Fixture *f, gconstpointer data)
{
  set_proc(f->snap, 100, "idle", 1, 1000, 10);
  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  set_proc(f->snap, 300, "builder", 120, 1000, 10);
  set_proc(f->snap, 400, "small", 95, 1000, 10);
  {
    guint raises = 0;
    for (int i = 0; i < 12; i++) {
      g_autoptr(GPtrArray) d = tick(f);
      for (guint j = 0; j < d->len; j++) {
        StDecision *x = g_ptr_array_index(d, j);
        if (x->kind != ST_DECISION_RAISE || x->metric != ST_METRIC_PROCESS_CPU)
          continue;
        raises++;
        if (x->pid == 200) {
          /* The others over the threshold are named, worst first. */
          g_assert_cmpstr(x->name, ==, "hog");
          g_assert_cmpuint(x->others->len, ==, 2);
          g_assert_cmpint(g_array_index(x->others, StOffender, 0).pid, ==, 300);
          g_assert_cmpint(g_array_index(x->others, StOffender, 1).pid, ==, 400);
        }
      }
    }
    g_assert_cmpuint(raises, ==, 3);
  }
  /* The hog exits: its alert clears as "exited"; the others stay. */
  remove_proc(f->snap, 200);
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_cmpint(clear->pid, ==, 200);
    g_assert_cmpint(clear->reason, ==, ST_CLEAR_EXITED);
  }
  g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 2);
}

static void
test_pid_reuse(Fixture *f, gconstpointer data)
{
  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  /* Same pid, a new process: the old alert ends, the new one starts pending. */
  g_array_index(f->snap->processes, StProcess, 0).start_time = 99999;
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_cmpint(clear->reason, ==, ST_CLEAR_EXITED);
    g_assert_null(find(d, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE));
  }
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
}

/* A sample that did not read the processes says nothing about them: an
 * alert of a process missing from its (stale) table stays; the system's
 * figures are still judged. */
static void
test_stale_processes(Fixture *f, gconstpointer data)
{
  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  remove_proc(f->snap, 200);
  f->snap->processes_fresh = FALSE;
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 3, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR), ==, 0);
  g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 2); /* the hog and system CPU */
  /* Read again: now it is gone. */
  f->snap->processes_fresh = TRUE;
  g_assert_cmpuint(run(f, 1, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR), ==, 1);
}

static void
test_ignored(Fixture *f, gconstpointer data)
{
  char *ignored[] = {"HOG", NULL};

  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  set_proc(f->snap, 300, "other", 150, 1000, 10);
  g_strfreev(f->config.ignored);
  f->config.ignored = g_strdupv(ignored);
  apply(f);
  {
    guint raises = 0;
    for (int i = 0; i < 12; i++) {
      g_autoptr(GPtrArray) d = tick(f);
      for (guint j = 0; j < d->len; j++) {
        StDecision *x = g_ptr_array_index(d, j);
        g_assert_cmpint(x->pid, !=, 200);
        for (guint k = 0; k < x->others->len; k++)
          g_assert_cmpint(g_array_index(x->others, StOffender, k).pid, !=, 200);
        raises += x->kind == ST_DECISION_RAISE;
      }
    }
    g_assert_cmpuint(raises, ==, 1);
  }
  /* Ignoring a process that is firing withdraws its alert quietly. */
  g_strfreev(f->config.ignored);
  f->config.ignored = g_new0(char *, 1);
  apply(f);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  g_strfreev(f->config.ignored);
  f->config.ignored = g_strdupv((char *[]){"hog", "other", NULL});
  apply(f);
  {
    g_autoptr(GPtrArray) d = tick(f);
    guint clears = 0;
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      g_assert_cmpint(x->kind, ==, ST_DECISION_CLEAR);
      g_assert_false(x->notify);
      clears++;
    }
    g_assert_cmpuint(clears, ==, 2);
  }
}

static void
test_unavailable(Fixture *f, gconstpointer data)
{
  /* The /proc backend: syscall rates are NAN. They never alert, at any
   * threshold, and never clear an alert as if they were 0. */
  f->config.threshold[ST_METRIC_SYSCALLS] = 1;
  f->config.threshold[ST_METRIC_PROCESS_SYSCALLS] = 1;
  apply(f);
  f->snap->syscalls_per_s = NAN;
  set_proc(f->snap, 200, "quiet", 1, 1000, NAN);
  g_assert_cmpuint(run(f, 30, ST_METRIC_SYSCALLS, ST_DECISION_RAISE), ==, 0);
  g_assert_cmpuint(run(f, 30, ST_METRIC_PROCESS_SYSCALLS, ST_DECISION_RAISE), ==, 0);

  f->snap->syscalls_per_s = 5000;
  g_assert_cmpuint(run(f, 12, ST_METRIC_SYSCALLS, ST_DECISION_RAISE), ==, 1);
  f->snap->syscalls_per_s = NAN;
  g_assert_cmpuint(run(f, 10, ST_METRIC_SYSCALLS, ST_DECISION_CLEAR), ==, 0);
  g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 1);
}

static void
test_memory_critical(Fixture *f, gconstpointer data)
{
  guint64 total = f->snap->mem_total_bytes;

  set_proc(f->snap, 300, "firefox", 1, total / 2, 10);
  /* Warning: sustained. */
  f->snap->mem_used_bytes = total * 92 / 100;
  g_assert_cmpuint(run(f, 9, ST_METRIC_MEMORY, ST_DECISION_RAISE), ==, 0);
  {
    g_autoptr(GPtrArray) d = NULL;
    guint raises = run(f, 3, ST_METRIC_MEMORY, ST_DECISION_RAISE);
    g_assert_cmpuint(raises, ==, 1);
    /* Critical: the same notification, escalated at once. */
    f->snap->mem_used_bytes = total * 98 / 100;
    d = tick(f);
    StDecision *up = find(d, ST_METRIC_MEMORY, ST_DECISION_UPDATE);
    g_assert_nonnull(up);
    g_assert_cmpint(up->level, ==, ST_LEVEL_CRITICAL);
    g_assert_cmpint(g_array_index(up->others, StOffender, 0).pid, ==, 300);
  }
  /* Critical again soon after: held by its own backoff (120 s), not by
   * sustain or the warning's cooldown. */
  f->snap->mem_used_bytes = total / 2;
  g_assert_cmpuint(run(f, 1, ST_METRIC_MEMORY, ST_DECISION_CLEAR), ==, 1);
  f->snap->mem_used_bytes = total * 99 / 100;
  g_assert_cmpuint(run(f, 100, ST_METRIC_MEMORY, ST_DECISION_RAISE), ==, 0);
  {
    guint raises = 0;
    for (int i = 0; i < 30; i++) {
      g_autoptr(GPtrArray) d = tick(f);
      StDecision *raise = find(d, ST_METRIC_MEMORY, ST_DECISION_RAISE);
      if (raise != NULL) {
        g_assert_cmpint(raise->level, ==, ST_LEVEL_CRITICAL);
        /* At once after the backoff: 120 s after the escalation, which was
         * one clear and 100 samples before this loop. */
        g_assert_cmpint(i, ==, 120 - 1 - 100 - 1);
        raises++;
      }
    }
    g_assert_cmpuint(raises, ==, 1);
  }
}

static void
test_critical_from_normal(Fixture *f, gconstpointer data)
{
  /* No sustain for critical: the first sample raises it. */
  f->snap->mem_used_bytes = f->snap->mem_total_bytes * 99 / 100;
  g_autoptr(GPtrArray) d = tick(f);
  StDecision *raise = find(d, ST_METRIC_MEMORY, ST_DECISION_RAISE);
  g_assert_nonnull(raise);
  g_assert_cmpint(raise->level, ==, ST_LEVEL_CRITICAL);
}

static void
test_flap_damping(Fixture *f, gconstpointer data)
{
  /* A value hovering at the threshold: 40 s over, 20 s well under, for an
   * hour, with no cooldown at all. Undamped that is 60 notifications; the
   * damping holds it to at most 3 per hour. */
  guint raises = 0;
  f->config.cooldown_s = 0;
  f->config.sustain_s = 30;
  apply(f);
  for (int minute = 0; minute < 60; minute++) {
    f->snap->cpu_busy_percent = 90;
    raises += run(f, 40, ST_METRIC_CPU, ST_DECISION_RAISE);
    f->snap->cpu_busy_percent = 40;
    run(f, 20, ST_METRIC_CPU, ST_DECISION_RAISE);
  }
  g_test_message("hovering value: %u raises in one hour", raises);
  g_assert_cmpuint(raises, >=, 1);
  g_assert_cmpuint(raises, <=, 3);

  /* Quiet for a while: the damping fades and a real problem is told again
   * after plain sustain. */
  f->snap->cpu_busy_percent = 10;
  run(f, 3 * 3600, ST_METRIC_CPU, ST_DECISION_RAISE);
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 32, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
}

static void
test_snooze(Fixture *f, gconstpointer data)
{
  g_autofree char *key = st_engine_snooze_key(ST_METRIC_PROCESS_CPU, "hog");

  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  /* Snoozed for an hour: withdrawn quietly, silent while it lasts. */
  st_engine_config_add_snooze(&f->config, key, f->now + 3600 * SEC);
  apply(f);
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_false(clear->notify);
  }
  g_assert_cmpuint(run(f, 3590, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 0);
  /* Lifted on its own at expiry; the process is still a hog. */
  g_assert_cmpuint(run(f, 30, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  /* Other metrics and subjects were never muted. */
  g_assert_cmpstr(key, ==, "process-cpu/hog");
}

static void
test_clock_backwards(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 95;
  run(f, 5, ST_METRIC_CPU, ST_DECISION_RAISE);
  /* A fake clock jumping back an hour: the sample is skipped, nothing fires. */
  f->now -= 3600 * SEC;
  g_assert_cmpuint(run(f, 20, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
}

static void
test_suspend_gap(Fixture *f, gconstpointer data)
{
  f->config.max_gap_s = 6;
  apply(f);
  f->snap->cpu_busy_percent = 95;
  run(f, 2, ST_METRIC_CPU, ST_DECISION_RAISE);
  /* Suspended for two hours: the first sample after resume does not fire
   * an alert that was pending for 2 s before the suspend. */
  f->now += 2 * 3600 * SEC;
  g_assert_cmpuint(run(f, 9, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  g_assert_cmpuint(run(f, 2, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
}

static void
test_no_growth(Fixture *f, gconstpointer data)
{
  /* A thousand processes, each a hog for a while, each gone after: what the
   * engine keeps must not grow with them. */
  for (gint32 pid = 1000; pid < 2000; pid++) {
    set_proc(f->snap, pid, "burst", 190, 1000, 10);
    run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE);
    remove_proc(f->snap, pid);
  }
  run(f, 1, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR);
  g_assert_cmpuint(st_engine_get_n_tracked(f->engine), ==, 0);
}

static void
test_disabled(Fixture *f, gconstpointer data)
{
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 12, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
  f->config.cpu_enabled = FALSE;
  apply(f);
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_false(clear->notify);
  }
  g_assert_cmpuint(run(f, 30, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
  f->config.cpu_enabled = TRUE;
  f->config.enabled = FALSE;
  apply(f);
  g_assert_cmpuint(run(f, 30, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 0);
}

static void
test_recovery_off(Fixture *f, gconstpointer data)
{
  f->config.notify_recovery = FALSE;
  apply(f);
  f->snap->cpu_busy_percent = 95;
  g_assert_cmpuint(run(f, 12, ST_METRIC_CPU, ST_DECISION_RAISE), ==, 1);
  f->snap->cpu_busy_percent = 5;
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *clear = find(d, ST_METRIC_CPU, ST_DECISION_CLEAR);
    g_assert_nonnull(clear);
    g_assert_false(clear->notify);
  }
}

static void
test_format_escapes(Fixture *f, gconstpointer data)
{
  const char *evil = "<b>x</b>&\"";
  g_auto(StNotificationText) text = {0};

  set_proc(f->snap, 4242, evil, 190, 1000, 10);
  set_proc(f->snap, 4243, "<a href='x'>", 150, 1000, 10);
  for (int i = 0; i < 12; i++) {
    g_autoptr(GPtrArray) d = tick(f);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      if (x->kind == ST_DECISION_RAISE && x->pid == 4242)
        st_format_decision(x, &text);
    }
  }
  g_assert_nonnull(text.body);
  g_assert_nonnull(strstr(text.body, "&lt;b&gt;x&lt;/b&gt;&amp;&quot;, pid 4242"));
  g_assert_nonnull(strstr(text.body, "&lt;a href=&apos;x&apos;&gt;"));
  g_assert_null(strstr(text.body, "<"));
  g_assert_nonnull(strstr(text.plain, "<b>x</b>"));
  g_assert_nonnull(strstr(text.body, "190%"));
  g_assert_cmpuint(text.urgency, ==, 1);
}

/* The number a text quotes right after marker. */
static gdouble
quoted(const char *plain, const char *marker)
{
  const char *p = strstr(plain, marker);
  g_assert_nonnull(p);
  return g_ascii_strtod(p + strlen(marker), NULL);
}

/* Checks every RAISE and UPDATE of a process CPU alert: its text quotes a
 * figure at or over the threshold. Returns how many there were. */
static guint
check_quotes(Fixture *f, guint n, gdouble threshold)
{
  guint count = 0;
  for (guint i = 0; i < n; i++) {
    g_autoptr(GPtrArray) d = tick(f);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      g_auto(StNotificationText) text = {0};
      if (x->metric != ST_METRIC_PROCESS_CPU || x->kind == ST_DECISION_CLEAR)
        continue;
      st_format_decision(x, &text);
      g_test_message("%s", text.plain);
      g_assert_cmpfloat(x->value, >=, threshold);
      g_assert_cmpfloat(quoted(text.plain, "has used "), >=, threshold);
      count++;
    }
  }
  return count;
}

static void
test_quote_dip(Fixture *f, gconstpointer data)
{
  /* 95, 95, 95, 95, 95, then 70: inside the hysteresis band (68..80), so
   * still firing. The alert never reads "70%" against an 80% threshold. */
  f->config.threshold[ST_METRIC_PROCESS_CPU] = 80;
  f->config.sustain_s = 5;
  f->config.hysteresis_percent = 15;
  apply(f);
  set_proc(f->snap, 200, "hog", 95, 1000, 10);
  g_assert_cmpuint(check_quotes(f, 5, 80), ==, 1);
  set_proc(f->snap, 200, "hog", 70, 1000, 10);
  check_quotes(f, 20, 80);
  /* Back over: the sustained figure is news again. */
  set_proc(f->snap, 200, "hog", 99, 1000, 10);
  g_assert_cmpuint(check_quotes(f, 10, 80), >=, 1);
}

static void
test_quote_raise_in_band(Fixture *f, gconstpointer data)
{
  /* Said, cleared, back over within the cooldown (firing silently), then in
   * the band (72..80) when the cooldown ends: the raise quotes the figure
   * that crossed the threshold, not the one of the moment. */
  f->config.threshold[ST_METRIC_PROCESS_CPU] = 80;
  f->config.sustain_s = 5;
  apply(f);
  set_proc(f->snap, 200, "hog", 95, 1000, 10);
  g_assert_cmpuint(check_quotes(f, 6, 80), ==, 1);
  set_proc(f->snap, 200, "hog", 10, 1000, 10);
  g_assert_cmpuint(run(f, 1, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR), ==, 1);
  set_proc(f->snap, 200, "hog", 95, 1000, 10);
  g_assert_cmpuint(check_quotes(f, 10, 80), ==, 0);
  set_proc(f->snap, 200, "hog", 75, 1000, 10);
  g_assert_cmpuint(check_quotes(f, 60, 80), ==, 1);
}

static void
test_others_not_above(Fixture *f, gconstpointer data)
{
  /* hog at 150 from the start; a worse one (300) joins 5 s later and is
   * still pending when hog's alert is raised. */
  f->snap->cpu_busy_percent = 95;
  set_proc(f->snap, 200, "hog", 150, 1000, 10);
  set_proc(f->snap, 250, "mild", 100, 1000, 10);
  run(f, 5, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE);
  set_proc(f->snap, 300, "worse", 300, 1000, 10);
  for (int i = 0; i < 12; i++) {
    g_autoptr(GPtrArray) d = tick(f);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      g_auto(StNotificationText) text = {0};
      if (x->kind != ST_DECISION_RAISE)
        continue;
      st_format_decision(x, &text);
      g_test_message("%s", text.plain);
      for (guint k = 0; k < x->others->len; k++) {
        const StOffender *o = &g_array_index(x->others, StOffender, k);
        if (k > 0)
          g_assert_cmpfloat(o->value, <=, g_array_index(x->others, StOffender, k - 1).value);
        if (x->metric == ST_METRIC_PROCESS_CPU)
          g_assert_cmpfloat(o->value, <=, x->value);
      }
      if (x->pid == 200) {
        g_assert_null(strstr(text.plain, "300%"));
        g_assert_nonnull(strstr(text.plain, "Also high: mild (pid 250, 100%)"));
      } else if (x->pid == 250) {
        g_assert_null(strstr(text.plain, "Also high"));
      } else if (x->metric == ST_METRIC_CPU) {
        /* A system alert names the top consumer first. */
        g_assert_nonnull(strstr(text.plain, "Top: worse (pid 300, 300%), hog (pid 200, 150%)"));
      }
    }
  }
}

/* The only CLEAR of a process metric in the next tick, formatted. */
static void
next_clear(Fixture *f, StMetric metric, StClearReason reason, StNotificationText *text)
{
  g_autoptr(GPtrArray) d = tick(f);
  StDecision *clear = find(d, metric, ST_DECISION_CLEAR);
  g_assert_nonnull(clear);
  g_assert_cmpint(clear->reason, ==, reason);
  st_format_decision(clear, text);
  g_test_message("%s", text->plain);
}

static void
test_exited_text(Fixture *f, gconstpointer data)
{
  guint64 total = f->snap->mem_total_bytes;

  f->config.threshold[ST_METRIC_PROCESS_MEMORY] = 50;
  apply(f);
  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  set_proc(f->snap, 300, "balloon", 1, total * 6 / 10, 10);
  set_proc(f->snap, 400, "gone", 190, 1000, 10);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 2);
  /* Zombies: still listed, nothing left of them. */
  set_proc(f->snap, 200, "hog", 0, 0, 0);
  set_proc(f->snap, 300, "balloon", 0, 0, 0);
  remove_proc(f->snap, 400);
  {
    g_autoptr(GPtrArray) d = tick(f);
    guint clears = 0;
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      g_auto(StNotificationText) text = {0};
      g_assert_cmpint(x->kind, ==, ST_DECISION_CLEAR);
      st_format_decision(x, &text);
      g_test_message("%s", text.plain);
      g_assert_nonnull(strstr(text.plain, "has exited"));
      g_assert_null(strstr(text.plain, "0%"));
      g_assert_null(strstr(text.plain, "bytes"));
      g_assert_null(strstr(text.plain, "unavailable"));
      g_assert_cmpint(x->reason, ==, ST_CLEAR_EXITED);
      g_assert_true(x->notify);
      clears++;
    }
    g_assert_cmpuint(clears, ==, 3);
  }
  g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 0);
  /* A zombie is never named among the top consumers either. */
  f->snap->cpu_busy_percent = 95;
  for (int i = 0; i < 12; i++) {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *raise = find(d, ST_METRIC_CPU, ST_DECISION_RAISE);
    for (guint k = 0; raise != NULL && k < raise->others->len; k++)
      g_assert_cmpfloat(g_array_index(raise->others, StOffender, k).value, >, 0);
  }
}

static void
test_withdrawn_text(Fixture *f, gconstpointer data)
{
  g_auto(StNotificationText) text = {0};

  /* Muted: nothing to quote, never "is at unavailable now". */
  set_proc(f->snap, 200, "hog", 190, 1000, 10);
  g_assert_cmpuint(run(f, 12, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 1);
  f->config.cpu_enabled = FALSE;
  apply(f);
  next_clear(f, ST_METRIC_PROCESS_CPU, ST_CLEAR_MUTED, &text);
  g_assert_null(strstr(text.plain, "unavailable"));
  g_assert_nonnull(strstr(text.plain, "hog (pid 200)"));
}

static void
test_critical_text(Fixture *f, gconstpointer data)
{
  guint64 total = f->snap->mem_total_bytes;
  g_autofree char *left = g_format_size_full(20 * 1024 * 1024, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *left_now = g_format_size_full(30 * 1024 * 1024, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *want = g_strdup_printf("Only %s left.", left);
  g_autofree char *want_now = g_strdup_printf("Only %s left.", left_now);

  /* Warning first (90%): sustained, with the warning threshold. */
  f->snap->mem_used_bytes = total * 92 / 100;
  f->snap->mem_available_bytes = total - f->snap->mem_used_bytes;
  {
    guint raises = 0;
    for (int i = 0; i < 12; i++) {
      g_autoptr(GPtrArray) d = tick(f);
      StDecision *raise = find(d, ST_METRIC_MEMORY, ST_DECISION_RAISE);
      g_auto(StNotificationText) text = {0};
      if (raise == NULL)
        continue;
      st_format_decision(raise, &text);
      g_assert_cmpfloat(raise->threshold, ==, 90);
      g_assert_nonnull(strstr(text.plain, "Threshold: 90%"));
      raises++;
    }
    g_assert_cmpuint(raises, ==, 1);
  }
  /* Critical (97%): 20 MiB left. The escalation quotes the critical
   * threshold and what is left, and a figure over the critical threshold. */
  f->snap->mem_available_bytes = 20 * 1024 * 1024;
  f->snap->mem_used_bytes = total - f->snap->mem_available_bytes;
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *up = find(d, ST_METRIC_MEMORY, ST_DECISION_UPDATE);
    g_auto(StNotificationText) text = {0};
    g_assert_nonnull(up);
    g_assert_cmpint(up->level, ==, ST_LEVEL_CRITICAL);
    st_format_decision(up, &text);
    g_test_message("%s", text.plain);
    g_assert_cmpfloat(up->threshold, ==, 97);
    g_assert_cmpfloat(up->value, >=, 97);
    g_assert_cmpfloat(up->mem_available_bytes, ==, 20 * 1024 * 1024);
    g_assert_nonnull(strstr(text.plain, "Threshold: 97%"));
    g_assert_null(strstr(text.plain, "90%"));
    g_assert_nonnull(strstr(text.plain, "98% of memory is in use"));
    g_assert_nonnull(strstr(text.plain, want));
    g_assert_cmpuint(text.urgency, ==, 2);
  }
  /* From normal, at once: the same words, the left bytes of that moment. */
  f->snap->mem_used_bytes = total / 2;
  f->snap->mem_available_bytes = total / 2;
  g_assert_cmpuint(run(f, 1, ST_METRIC_MEMORY, ST_DECISION_CLEAR), ==, 1);
  f->now += 600 * SEC;
  f->snap->mem_available_bytes = 30 * 1024 * 1024;
  f->snap->mem_used_bytes = total - f->snap->mem_available_bytes;
  {
    g_autoptr(GPtrArray) d = tick(f);
    StDecision *raise = find(d, ST_METRIC_MEMORY, ST_DECISION_RAISE);
    g_auto(StNotificationText) text = {0};
    g_assert_nonnull(raise);
    st_format_decision(raise, &text);
    g_test_message("%s", text.plain);
    g_assert_cmpint(raise->level, ==, ST_LEVEL_CRITICAL);
    g_assert_nonnull(strstr(text.plain, "Threshold: 97%"));
    g_assert_nonnull(strstr(text.plain, want_now));
  }
}

static void
test_format_newline_name(void)
{
  StDecision d = {0};
  g_auto(StNotificationText) text = {0};

  d.kind = ST_DECISION_RAISE;
  d.metric = ST_METRIC_PROCESS_CPU;
  d.pid = 7;
  d.name = (char *)"evil\nSecond line\x1b[31m";
  d.value = 150;
  d.threshold = 90;
  d.over_s = 30;
  d.others = g_array_new(FALSE, TRUE, sizeof(StOffender));
  st_format_decision(&d, &text);
  /* The name cannot start a new line of its own in the body. */
  g_assert_nonnull(strstr(text.plain, "evil Second line [31m, pid 7, has used 150% CPU"));
  g_assert_true(g_utf8_validate(text.body, -1, NULL));
  g_array_unref(d.others);
}

/* 1,000 application ids come, alert and go (an app's id can come back, so
 * its history has no end of its own): once nothing they left matters, the
 * engine keeps nothing of them. */
static void
test_app_churn(Fixture *f, gconstpointer data)
{
  for (guint wave = 0; wave < 2; wave++) {
    guint raises;

    g_array_set_size(f->snap->processes, 0);
    for (guint i = 0; i < 1000; i++) {
      char id[32];
      StProcess p = {0};
      g_snprintf(id, sizeof(id), "org.example.App%u_%u", wave, i);
      p.pid = (gint32)(10000 + i);
      p.start_time = 1 + wave;
      g_strlcpy(p.comm, "app", sizeof(p.comm));
      p.display_name = g_intern_string(id);
      p.app_id = g_intern_string(id);
      p.cpu_percent = 80; /* under the process threshold, two of them over the app's */
      p.rss_bytes = 1024 * 1024;
      g_array_append_val(f->snap->processes, p);
      p.pid += 5000;
      g_array_append_val(f->snap->processes, p);
    }
    st_snapshot_group_apps(f->snap, NULL, NULL);
    raises = run(f, 12, ST_METRIC_APP_CPU, ST_DECISION_RAISE);
    g_assert_cmpuint(raises, ==, 1000);
    g_assert_cmpuint(st_engine_get_n_tracked(f->engine), >=, 1000);

    g_array_set_size(f->snap->processes, 0);
    st_snapshot_group_apps(f->snap, NULL, NULL);
    g_assert_cmpuint(run(f, 1, ST_METRIC_APP_CPU, ST_DECISION_CLEAR), ==, 1000);
    /* Within the cooldown, their history still counts. */
    g_assert_cmpuint(st_engine_get_n_active(f->engine), ==, 0);
    g_assert_cmpuint(st_engine_get_n_tracked(f->engine), ==, 1000);
    /* Past the cooldowns and the flap window, nothing. */
    f->now += (gint64)MAX(f->config.flap_window_s,
                          MAX(f->config.cooldown_s, f->config.critical_cooldown_s)) *
              SEC;
    run(f, 1, ST_METRIC_APP_CPU, ST_DECISION_RAISE);
    g_assert_cmpuint(st_engine_get_n_tracked(f->engine), ==, 0);
  }
}

/* An application back within its cooldown is not announced again: the
 * history that pruning keeps is the one that still decides. */
static void
test_app_back_in_cooldown(Fixture *f, gconstpointer data)
{
  StProcess p = {0};

  p.pid = 4000;
  p.start_time = 1;
  g_strlcpy(p.comm, "app", sizeof(p.comm));
  p.display_name = "App";
  p.app_id = "org.example.App";
  p.cpu_percent = 200;
  p.rss_bytes = 1024 * 1024;
  g_array_append_val(f->snap->processes, p);
  st_snapshot_group_apps(f->snap, NULL, NULL);
  g_assert_cmpuint(run(f, 12, ST_METRIC_APP_CPU, ST_DECISION_RAISE), ==, 1);
  g_array_set_size(f->snap->processes, 0);
  st_snapshot_group_apps(f->snap, NULL, NULL);
  run(f, 5, ST_METRIC_APP_CPU, ST_DECISION_CLEAR);
  p.pid = 4001;
  g_array_append_val(f->snap->processes, p);
  st_snapshot_group_apps(f->snap, NULL, NULL);
  g_assert_cmpuint(run(f, 30, ST_METRIC_APP_CPU, ST_DECISION_RAISE), ==, 0);
}

static void
check_clean(const char *name)
{
  g_assert_nonnull(name);
  g_assert_cmpstr(name, !=, "");
  g_assert_true(g_utf8_validate(name, -1, NULL));
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    g_assert_false(g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 ||
                   (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069));
  }
}

/* A decision's name goes raw to D-Bus and the alert command: sanitised,
 * never empty, and not the raw comm when the display name cleans to
 * nothing. A snooze made from that name holds. */
static void
test_clean_names(Fixture *f, gconstpointer data)
{
  const char *hostile[] = {"\n\t\x1b", "evil\xe2\x80\xaetxt\xff", "<b>\nx</b>"};
  g_autoptr(GPtrArray) raised = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
    StProcess p = {0};
    p.pid = (gint32)(300 + i);
    p.start_time = 5;
    g_strlcpy(p.comm, "\x1b[31m\xff\n", sizeof(p.comm));
    p.display_name = hostile[i];
    p.cpu_percent = 100 + i;
    p.rss_bytes = 1024 * 1024;
    g_array_append_val(f->snap->processes, p);
  }
  set_proc(f->snap, 400, "bystander", 95, 1024 * 1024, 0);
  for (guint t = 0; t < 12; t++) {
    g_autoptr(GPtrArray) d = tick(f);
    for (guint j = 0; j < d->len; j++) {
      StDecision *x = g_ptr_array_index(d, j);
      if (x->kind != ST_DECISION_RAISE || x->metric != ST_METRIC_PROCESS_CPU)
        continue;
      check_clean(x->name);
      g_assert_null(strchr(x->name, '['));
      for (guint k = 0; k < x->others->len; k++)
        check_clean(g_array_index(x->others, StOffender, k).name);
      g_ptr_array_add(raised, g_strdup(x->name));
    }
  }
  g_assert_cmpuint(raised->len, ==, 4);

  /* Snoozed by the names the decisions gave: none of them comes back. */
  for (guint i = 0; i < raised->len; i++) {
    g_autofree char *key =
        st_engine_snooze_key(ST_METRIC_PROCESS_CPU, g_ptr_array_index(raised, i));
    st_engine_config_add_snooze(&f->config, key, f->now + 3600 * SEC);
  }
  apply(f);
  run(f, 1, ST_METRIC_PROCESS_CPU, ST_DECISION_CLEAR);
  f->config.cooldown_s = 0;
  apply(f);
  g_assert_cmpuint(run(f, 30, ST_METRIC_PROCESS_CPU, ST_DECISION_RAISE), ==, 0);
}

/* A process writing to disk past its threshold: one alert after sustain,
 * named with the figure that crossed it; an unknown figure (another user's
 * process on /proc) neither raises nor clears; the system disk figure is
 * its own alert. */
static void
test_disk_write(Fixture *f, gconstpointer data)
{
  StProcess *p;
  g_autoptr(GPtrArray) raised = NULL;
  g_auto(StNotificationText) text = {0};
  const StDecision *d = NULL;

  set_proc(f->snap, 300, "writer", 20, 1000, 10);
  p = &g_array_index(f->snap->processes, StProcess, 0);
  p->disk_write_per_s = 310e6;
  p->disk_read_per_s = NAN;
  g_assert_cmpuint(run(f, 9, ST_METRIC_PROCESS_DISK_WRITE, ST_DECISION_RAISE), ==, 0);
  raised = tick(f);
  for (guint i = 0; i < raised->len; i++)
    if (((StDecision *)g_ptr_array_index(raised, i))->metric == ST_METRIC_PROCESS_DISK_WRITE)
      d = g_ptr_array_index(raised, i);
  g_assert_nonnull(d);
  g_assert_cmpint(d->kind, ==, ST_DECISION_RAISE);
  st_format_decision(d, &text);
  g_assert_cmpstr(text.summary, ==, "A program is writing a lot to disk");
  g_test_message("%s", text.plain);
  g_assert_nonnull(strstr(text.plain, "writer, pid 300, has written 310.0\xc2\xa0MB/s to disk"));
  g_assert_nonnull(strstr(text.plain, "Threshold: 100.0\xc2\xa0MB/s."));
  g_assert_cmpuint(run(f, 30, ST_METRIC_PROCESS_DISK_READ, ST_DECISION_RAISE), ==, 0);
  /* Unknown for a while: still on. */
  p = &g_array_index(f->snap->processes, StProcess, 0);
  p->disk_write_per_s = NAN;
  g_assert_cmpuint(run(f, 20, ST_METRIC_PROCESS_DISK_WRITE, ST_DECISION_CLEAR), ==, 0);
  p->disk_write_per_s = 1e6;
  g_assert_cmpuint(run(f, 20, ST_METRIC_PROCESS_DISK_WRITE, ST_DECISION_CLEAR), ==, 1);

  f->snap->disk_write_per_s = 400e6;
  g_assert_cmpuint(run(f, 12, ST_METRIC_DISK_WRITE, ST_DECISION_RAISE), ==, 1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                                              \
  g_test_add("/engine/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("sustain", test_sustain);
  ADD("short-burst", test_short_burst);
  ADD("memory-is-a-level", test_memory_is_a_level);
  ADD("hysteresis", test_hysteresis);
  ADD("update-in-place", test_update_in_place);
  ADD("cooldown", test_cooldown);
  ADD("processes", test_processes);
  ADD("pid-reuse", test_pid_reuse);
  ADD("stale-processes", test_stale_processes);
  ADD("ignored", test_ignored);
  ADD("unavailable", test_unavailable);
  ADD("memory-critical", test_memory_critical);
  ADD("critical-from-normal", test_critical_from_normal);
  ADD("flap-damping", test_flap_damping);
  ADD("snooze", test_snooze);
  ADD("clock-backwards", test_clock_backwards);
  ADD("suspend-gap", test_suspend_gap);
  ADD("no-growth", test_no_growth);
  ADD("disabled", test_disabled);
  ADD("recovery-off", test_recovery_off);
  ADD("format-escapes", test_format_escapes);
  ADD("quote-dip", test_quote_dip);
  ADD("quote-raise-in-band", test_quote_raise_in_band);
  ADD("others-not-above", test_others_not_above);
  ADD("exited-text", test_exited_text);
  ADD("withdrawn-text", test_withdrawn_text);
  ADD("critical-text", test_critical_text);
  ADD("app-churn", test_app_churn);
  ADD("app-back-in-cooldown", test_app_back_in_cooldown);
  ADD("clean-names", test_clean_names);
  ADD("disk-write", test_disk_write);
#undef ADD
  g_test_add_func("/format/newline-name", test_format_newline_name);
  return g_test_run();
}
