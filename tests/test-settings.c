/* test-settings.c: the settings room on GSettings' memory backend. What the
 * agent writes by itself: nothing; an ended snooze is out of effect all the
 * same. */
#include "st-engine.h"
#include "st-settings.h"

#define SEC G_GINT64_CONSTANT(1000000)

static void
count_changed(StSettings *settings, gpointer data)
{
  (*(guint *)data)++;
}

static void
flush(void)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

static guint
cpu_raises(StEngine *engine, StSnapshot *snap, gint64 now_us)
{
  g_autoptr(GPtrArray) d = st_engine_evaluate(engine, snap, now_us);
  guint n = 0;
  for (guint i = 0; i < d->len; i++) {
    const StDecision *x = g_ptr_array_index(d, i);
    n += x->metric == ST_METRIC_CPU && x->kind == ST_DECISION_RAISE;
  }
  return n;
}

static void
test_snooze_ends_without_write(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StSettings) settings = st_settings_new(&error);
  g_autoptr(StEngine) engine = st_engine_new();
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  gint64 wall = g_get_real_time() / G_USEC_PER_SEC;
  gint64 mono = 1000 * SEC;
  guint changed = 0, before;
  StEngineConfig c;

  g_assert_no_error(error);
  st_settings_set_changed_func(settings, count_changed, &changed);
  /* What the user asks is written: the counter sees writes. */
  g_assert_true(st_settings_snooze(settings, "cpu/system", wall + 10));
  g_assert_true(st_settings_snooze(settings, "process_cpu/hog", wall + 100));
  flush();
  g_assert_cmpuint(changed, >=, 1);
  before = changed;

  st_settings_get_config(settings, &c, wall, mono);
  g_assert_true(g_hash_table_contains(c.snoozed, "cpu/system"));
  c.threshold[ST_METRIC_CPU] = 80;
  c.sustain_s = 0;
  c.cooldown_s = 0;
  st_engine_set_config(engine, &c);
  st_engine_config_clear(&c);
  snap->n_cpus = 1;
  snap->interval_s = 1;
  snap->cpu_busy_percent = 95;
  snap->mem_total_bytes = 1000;
  snap->mem_used_bytes = 100;

  /* Snoozed, then out of effect at its expiry, with no re-read and no
   * write: the engine holds it to its monotonic expiry. */
  for (gint64 t = 1; t < 10; t++)
    g_assert_cmpuint(cpu_raises(engine, snap, mono + t * SEC), ==, 0);
  g_assert_cmpuint(cpu_raises(engine, snap, mono + 11 * SEC), ==, 1);

  /* What st-app.c does at the snooze's end: no write, the next expiry. */
  g_assert_cmpint(st_settings_prune_snoozes(settings, wall + 11), ==, wall + 100);
  g_assert_cmpint(st_settings_prune_snoozes(settings, wall + 50), ==, wall + 100);
  g_assert_cmpint(st_settings_prune_snoozes(settings, wall + 100), ==, 0);
  flush();
  g_assert_cmpuint(changed, ==, before);

  /* Read again after it ended (a restart, a change of another key): the
   * ended snooze is left out. */
  st_settings_get_config(settings, &c, wall + 50, mono + 50 * SEC);
  g_assert_false(g_hash_table_contains(c.snoozed, "cpu/system"));
  g_assert_true(g_hash_table_contains(c.snoozed, "process_cpu/hog"));
  st_engine_config_clear(&c);
  flush();
  g_assert_cmpuint(changed, ==, before);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/settings/snooze-ends-without-write", test_snooze_ends_without_write);
  return g_test_run();
}
