/* test-oom.c: naming the victims of OOM kills from the counter and two
 * samples, without a kernel. */
#include "st-oom.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)

static void
add(StSnapshot *snap, gint32 pid, guint32 uid, const char *name, guint64 rss)
{
  StProcess p = {0};
  p.pid = pid;
  p.uid = uid;
  p.start_time = 100 + (guint64)pid;
  g_strlcpy(p.comm, name, sizeof(p.comm));
  p.display_name = g_intern_string(name);
  p.rss_bytes = rss;
  g_array_append_val(snap->processes, p);
}

static void
test_victims(void)
{
  g_autoptr(StOomWatch) w = st_oom_watch_new(1000);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GArray) v = NULL;
  guint unnamed;

  add(snap, 10, 1000, "browser", 500 * MIB);
  add(snap, 11, 1000, "editor", 100 * MIB);
  add(snap, 12, 0, "database", 900 * MIB);
  add(snap, 13, 1000, "make", 20 * MIB);
  v = st_oom_watch_update(w, 5, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0); /* the count so far is history */
  g_clear_pointer(&v, g_array_unref);

  /* make exits normally: no kill, nobody named. */
  g_array_remove_index(snap->processes, 3);
  v = st_oom_watch_update(w, 5, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0);
  g_clear_pointer(&v, g_array_unref);

  /* One kill; the browser is gone: it was the victim, with what it held. */
  g_array_remove_index(snap->processes, 0);
  v = st_oom_watch_update(w, 6, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpuint(unnamed, ==, 0);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 10);
  g_assert_cmpstr(g_array_index(v, StOomVictim, 0).name, ==, "browser");
  g_assert_cmpuint(g_array_index(v, StOomVictim, 0).rss_bytes, ==, 500 * MIB);
  g_clear_pointer(&v, g_array_unref);

  /* Another user's database is killed: not this user's to hear about. The
   * kill waits a sample for a victim of this user's, then is nobody's. */
  g_array_remove_index(snap->processes, 1);
  v = st_oom_watch_update(w, 7, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0);
  g_assert_cmpuint(unnamed, ==, 0);
  g_clear_pointer(&v, g_array_unref);
  v = st_oom_watch_update(w, 7, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0);
  g_assert_cmpuint(unnamed, ==, 1);
  g_clear_pointer(&v, g_array_unref);

  /* The pid reused by a new process: the old one is gone all the same. */
  g_array_index(snap->processes, StProcess, 0).start_time += 1;
  v = st_oom_watch_update(w, 8, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 11);
  g_clear_pointer(&v, g_array_unref);

  /* Unknown counter: nothing, and no false kill when it comes back. */
  v = st_oom_watch_update(w, G_MAXUINT64, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0);
  g_clear_pointer(&v, g_array_unref);
  v = st_oom_watch_update(w, 8, snap, &unnamed);
  g_assert_cmpuint(v->len + unnamed, ==, 0);
}

/* The kill is counted while its victim is still listed (exiting with its
 * memory, or not reaped yet): named in the next sample. One already left
 * with no memory counts as gone. */
static void
test_victim_still_exiting(void)
{
  g_autoptr(StOomWatch) w = st_oom_watch_new(1000);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  GArray *v;
  guint unnamed;

  add(snap, 20, 1000, "hog", 900 * MIB);
  add(snap, 21, 1000, "shell", 5 * MIB);
  g_array_unref(st_oom_watch_update(w, 1, snap, &unnamed));
  v = st_oom_watch_update(w, 2, snap, &unnamed);
  g_assert_cmpuint(v->len + unnamed, ==, 0);
  g_array_unref(v);
  g_array_remove_index(snap->processes, 0);
  v = st_oom_watch_update(w, 2, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 20);
  g_array_unref(v);

  add(snap, 22, 1000, "big", 800 * MIB);
  g_array_unref(st_oom_watch_update(w, 2, snap, &unnamed));
  g_array_index(snap->processes, StProcess, 1).rss_bytes = 0; /* a zombie now */
  v = st_oom_watch_update(w, 3, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 22);
  g_array_unref(v);
}

/* Only the largest are remembered, and root hears of everyone's. */
static void
test_candidates(void)
{
  g_autoptr(StOomWatch) w = st_oom_watch_new(0);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GArray) v = NULL;
  guint unnamed;

  for (gint32 pid = 1; pid <= 40; pid++)
    add(snap, pid, (guint32)pid, "p", (guint64)pid * MIB);
  g_array_unref(st_oom_watch_update(w, 0, snap, &unnamed));
  g_array_set_size(snap->processes, 0);
  v = st_oom_watch_update(w, 2, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 2);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 40);
  g_assert_cmpint(g_array_index(v, StOomVictim, 1).pid, ==, 39);
}

static gboolean
alive_but_10(gint32 pid)
{
  return pid != 10;
}

/* Between two reads of the processes (a calm agent reads them every 10-12 s)
 * the largest exits on its own and then the next is killed: the one gone
 * while the counter stood still is not the victim. */
static void
test_exited_while_calm(void)
{
  g_autoptr(StOomWatch) w = st_oom_watch_new(1000);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GArray) v = NULL;
  guint unnamed;

  add(snap, 10, 1000, "linker", 1500 * MIB);
  add(snap, 11, 1000, "job", 800 * MIB);
  v = st_oom_watch_update(w, 5, snap, &unnamed);
  g_clear_pointer(&v, g_array_unref);
  st_oom_watch_forget_exited(w, alive_but_10); /* a calm sample: linker gone */
  g_array_set_size(snap->processes, 0);
  v = st_oom_watch_update(w, 6, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpint(g_array_index(v, StOomVictim, 0).pid, ==, 11);
  g_assert_cmpuint(unnamed, ==, 0);
}

/* The victim of an OOM kill is named from the processes before and after:
 * the sample that sees the counter move reads them, and the next too while
 * a kill waits for its victim to leave the list. */
static void
test_needs_processes(void)
{
  g_autoptr(StOomWatch) w = st_oom_watch_new(1000);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GArray) v = NULL;
  guint unnamed;

  g_assert_true(st_oom_watch_needs_processes(w, 3)); /* a counter not seen yet */
  add(snap, 10, 1000, "hog", 500 * MIB);
  v = st_oom_watch_update(w, 3, snap, &unnamed);
  g_clear_pointer(&v, g_array_unref);
  g_assert_false(st_oom_watch_needs_processes(w, 3));
  /* Unknown (vmstat unreadable) is no change. */
  g_assert_false(st_oom_watch_needs_processes(w, G_MAXUINT64));
  g_assert_true(st_oom_watch_needs_processes(w, 4));
  /* Counted while the hog is still listed: it waits, and the next sample
   * must read the processes again. */
  v = st_oom_watch_update(w, 4, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 0);
  g_clear_pointer(&v, g_array_unref);
  g_assert_true(st_oom_watch_needs_processes(w, 4));
  g_array_set_size(snap->processes, 0);
  v = st_oom_watch_update(w, 4, snap, &unnamed);
  g_assert_cmpuint(v->len, ==, 1);
  g_clear_pointer(&v, g_array_unref);
  g_assert_false(st_oom_watch_needs_processes(w, 4));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/oom/victims", test_victims);
  g_test_add_func("/oom/candidates", test_candidates);
  g_test_add_func("/oom/victim-still-exiting", test_victim_still_exiting);
  g_test_add_func("/oom/exited-while-calm", test_exited_while_calm);
  g_test_add_func("/oom/needs-processes", test_needs_processes);
  return g_test_run();
}
