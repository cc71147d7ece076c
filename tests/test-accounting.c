/* test-accounting.c: the fold of readings into charges, without a kernel.
 *
 * Each case writes the readings a backend would make, in the order a pass
 * makes them, and checks what every process is charged: the work it did in
 * the interval, never what another process was already shown doing.
 */
#include "st-accounting.h"

#include <math.h>

#define MS  G_GUINT64_CONSTANT(1000000)
#define SEC (1000 * MS)

static void
no_names(gint32 pid, const char *comm, char **display_name, char **exe, char **app_id,
         gpointer data)
{
  if (display_name != NULL)
    *display_name = g_strdup(comm);
}

typedef struct {
  StAccounts *accounts;
  StSnapshot *snap;
  GArray *procs;
  gboolean have_prev;
} Fixture;

static void
fixture_set_up(Fixture *fx, gconstpointer data)
{
  fx->accounts = st_accounts_new();
  fx->snap = st_snapshot_new();
  fx->snap->n_cpus = 2;
  fx->procs = g_array_new(FALSE, TRUE, sizeof(StRawProcess));
}

static void
fixture_tear_down(Fixture *fx, gconstpointer data)
{
  st_accounts_free(fx->accounts);
  st_snapshot_free(fx->snap);
  g_array_unref(fx->procs);
}

/* A process in the reading being built: own CPU and children total, ms. */
static void
add(Fixture *fx, gint32 pid, gint32 ppid, guint64 own_ms, guint64 children_ms)
{
  StRawProcess r = {0};
  r.pid = pid;
  r.ppid = ppid;
  r.start_time = (guint64)pid;
  r.n_threads = 1;
  g_snprintf(r.comm, sizeof(r.comm), "p%d", pid);
  r.cpu_time_ns = own_ms * MS;
  r.cpu_children_ns = children_ms * MS;
  g_array_append_val(fx->procs, r);
}

/* Folds the reading built since the last call, one second after it. */
static void
fold(Fixture *fx)
{
  StRawSample raw = {.procs = fx->procs, .has_net = TRUE};
  st_collector_fold(fx->accounts, fx->have_prev, &raw, SEC, no_names, NULL, fx->snap);
  fx->have_prev = TRUE;
  g_array_set_size(fx->procs, 0);
}

static gdouble
percent(Fixture *fx, gint32 pid)
{
  const StProcess *p = st_snapshot_find(fx->snap, pid);
  g_assert_nonnull(p);
  return p->cpu_percent;
}

static void
set_net(Fixture *fx, gint32 pid, guint64 bytes)
{
  for (guint i = 0; i < fx->procs->len; i++)
    if (g_array_index(fx->procs, StRawProcess, i).pid == pid)
      g_array_index(fx->procs, StRawProcess, i).net_bytes = bytes;
}

static gdouble
total_percent(Fixture *fx)
{
  gdouble sum = 0;
  for (guint i = 0; i < fx->snap->processes->len; i++)
    sum += g_array_index(fx->snap->processes, StProcess, i).cpu_percent;
  return sum;
}

/* `timeout 12 ./burner; sleep 3`: the burner and timeout go in the same
 * interval; the shell is charged what they did since their last reading. */
static void
test_wrapper(Fixture *fx, gconstpointer data)
{
  add(fx, 100, 1, 0, 0);
  add(fx, 101, 100, 0, 0);
  add(fx, 102, 101, 0, 0);
  fold(fx);
  add(fx, 100, 1, 0, 0);
  add(fx, 101, 100, 1, 0);
  add(fx, 102, 101, 900, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 102), 90.0, 0.01);
  /* Killed 400 ms into the next second: the shell's total holds both. */
  add(fx, 100, 1, 0, 1 + 1300);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 100), 40.0, 0.01);
}

/* A pass reads the parent, then the child is reaped before the pass gets to
 * it: it is missing while the parent's total has not grown. The next
 * reading shows the growth, and the parent is charged only the child's
 * last stretch, not its whole life again. */
static void
test_reaped_between_reads(Fixture *fx, gconstpointer data)
{
  add(fx, 200, 1, 0, 0);
  add(fx, 201, 200, 0, 0);
  fold(fx);
  add(fx, 200, 1, 0, 0);
  add(fx, 201, 200, 800, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 201), 80.0, 0.01);
  /* Parent read at 0 s of growth; the child, reaped at 850 ms, is gone. */
  add(fx, 200, 1, 0, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 200), 0.0, 0.01);
  add(fx, 200, 1, 0, 850);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 200), 5.0, 0.01);
}

/* The same when the parent itself exits after the reap: the settlement
 * follows it up to the grandparent. */
static void
test_reaped_between_reads_then_parent_gone(Fixture *fx, gconstpointer data)
{
  add(fx, 300, 1, 0, 0);
  add(fx, 301, 300, 0, 0);
  add(fx, 302, 301, 0, 0);
  fold(fx);
  add(fx, 300, 1, 0, 0);
  add(fx, 301, 300, 0, 0);
  add(fx, 302, 301, 700, 0);
  fold(fx);
  add(fx, 300, 1, 0, 0);
  add(fx, 301, 300, 0, 0);
  fold(fx);
  add(fx, 300, 1, 0, 750);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 300), 5.0, 0.01);
}

/* A settlement that finds no receiver in the next reading either went to a
 * process we cannot see: later growth of the parent is its own. */
static void
test_unplaced_settlement_expires(Fixture *fx, gconstpointer data)
{
  add(fx, 400, 1, 0, 0);
  add(fx, 401, 400, 0, 0);
  fold(fx);
  add(fx, 400, 1, 0, 0);
  add(fx, 401, 400, 500, 0);
  fold(fx);
  for (guint i = 0; i < 3; i++) {
    add(fx, 400, 1, 0, 0);
    fold(fx);
  }
  add(fx, 400, 1, 0, 300);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 400), 30.0, 0.01);
}

/* A zombie's reading stays until it is reaped; then it comes off the
 * parent, and the processes together never exceed what was done. */
static void
test_zombie(Fixture *fx, gconstpointer data)
{
  add(fx, 500, 1, 0, 0);
  add(fx, 501, 500, 0, 0);
  fold(fx);
  add(fx, 500, 1, 0, 0);
  add(fx, 501, 500, 50, 0);
  fold(fx);
  add(fx, 500, 1, 0, 0);
  add(fx, 501, 500, 50, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(total_percent(fx), 0.0, 0.01);
  add(fx, 500, 1, 10, 50);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 500), 1.0, 0.01);
}

/* A double fork: the grandchild, reparented to a subreaper, is reaped
 * there; its intermediate parent had gone long before. */
static void
test_reparented(Fixture *fx, gconstpointer data)
{
  add(fx, 600, 1, 0, 0);
  add(fx, 601, 600, 0, 0);
  add(fx, 602, 601, 0, 0);
  fold(fx);
  add(fx, 600, 1, 0, 2);
  add(fx, 602, 600, 400, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 600), 0.2, 0.01);
  add(fx, 600, 1, 0, 2 + 600);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 600), 20.0, 0.01);
}

/* A child reaped by its parent after the parent was read, while the
 * grandparent's total grew from an unrelated child: the settlement waits
 * for the parent, never lands on the grandparent (who would then be
 * charged nothing for its own child, and the parent the child twice). */
static void
test_parent_alive_is_the_only_receiver(Fixture *fx, gconstpointer data)
{
  add(fx, 700, 1, 0, 0);   /* shell */
  add(fx, 701, 700, 0, 0); /* make */
  add(fx, 702, 701, 0, 0); /* cc */
  add(fx, 703, 700, 0, 0); /* another job of the shell */
  fold(fx);
  add(fx, 700, 1, 0, 0);
  add(fx, 701, 700, 0, 0);
  add(fx, 702, 701, 300, 0);
  add(fx, 703, 700, 400, 0);
  fold(fx);
  /* cc reaped after make was read; the job ends and the shell reaps it. */
  add(fx, 700, 1, 0, 450);
  add(fx, 701, 700, 0, 0);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 700), 5.0, 0.01);
  g_assert_cmpfloat_with_epsilon(percent(fx, 701), 0.0, 0.01);
  add(fx, 700, 1, 0, 450);
  add(fx, 701, 700, 0, 320);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(percent(fx, 701), 2.0, 0.01);
  g_assert_cmpfloat_with_epsilon(percent(fx, 700), 0.0, 0.01);
}

/* Network bytes leave with the thread that moved them: after a dip the
 * process's new bytes count from the dip, not from the old high. */
static void
test_network_after_thread_exit(Fixture *fx, gconstpointer data)
{
  add(fx, 800, 1, 0, 0);
  set_net(fx, 800, 0);
  fold(fx);
  add(fx, 800, 1, 0, 0);
  set_net(fx, 800, 10000000);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(st_snapshot_find(fx->snap, 800)->net_per_s, 10e6, 1);
  /* The sending thread exited; the main thread sent 2 MB. */
  add(fx, 800, 1, 0, 0);
  set_net(fx, 800, 2000000);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(st_snapshot_find(fx->snap, 800)->net_per_s, 0, 1);
  add(fx, 800, 1, 0, 0);
  set_net(fx, 800, 5000000);
  fold(fx);
  g_assert_cmpfloat_with_epsilon(st_snapshot_find(fx->snap, 800)->net_per_s, 3e6, 1);
}

/* The processes read 10 s apart (a calm stretch), the system every second:
 * a program started 1.5 s ago is charged over its life, not over the 8.5 s
 * before it existed; one started 0.2 s ago over the system's interval; one
 * that was there all along over the whole 10 s. */
static void
test_new_after_calm(Fixture *fx, gconstpointer data)
{
  StRawSample raw = {.procs = fx->procs, .has_net = TRUE};
  StRawProcess *r;

  add(fx, 900, 1, 0, 0);
  fold(fx);
  fx->snap->interval_s = 1.0;
  add(fx, 900, 1, 1000, 0);
  add(fx, 901, 1, 1500, 0);
  add(fx, 902, 1, 200, 0);
  add(fx, 903, 1, 4000, 0);
  g_array_index(fx->procs, StRawProcess, 1).age_ns = 1500 * MS;
  g_array_index(fx->procs, StRawProcess, 2).age_ns = 200 * MS;
  r = &g_array_index(fx->procs, StRawProcess, 3);
  r->age_ns = 3600 * SEC; /* older than the window: not listed before (another user's) */
  st_collector_fold(fx->accounts, TRUE, &raw, 10 * SEC, no_names, NULL, fx->snap);
  g_assert_cmpfloat_with_epsilon(percent(fx, 900), 10.0, 0.01);
  g_assert_cmpfloat_with_epsilon(percent(fx, 901), 100.0, 0.01);
  g_assert_cmpfloat_with_epsilon(percent(fx, 902), 20.0, 0.01);
  g_assert_cmpfloat_with_epsilon(percent(fx, 903), 40.0, 0.01);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD("/accounting/wrapper", test_wrapper);
  ADD("/accounting/reaped-between-reads", test_reaped_between_reads);
  ADD("/accounting/reaped-between-reads-then-parent-gone",
      test_reaped_between_reads_then_parent_gone);
  ADD("/accounting/unplaced-settlement-expires", test_unplaced_settlement_expires);
  ADD("/accounting/zombie", test_zombie);
  ADD("/accounting/reparented", test_reparented);
  ADD("/accounting/parent-alive-is-the-only-receiver", test_parent_alive_is_the_only_receiver);
  ADD("/accounting/network-after-thread-exit", test_network_after_thread_exit);
  ADD("/accounting/new-after-calm", test_new_after_calm);
  return g_test_run();
}
