/* st-accounting.c: per-interval charges that conserve work (see the header). */
#define G_LOG_DOMAIN "smoothtask-accounting"

#include "st-accounting.h"

#include <math.h>

#include <string.h>

/* /proc shows CPU times in clock ticks, rounded down one child at a time:
 * a parent's children total can grow by a little less than the sum of what
 * its children showed. */
#define SETTLE_SLACK_NS (20 * G_GUINT64_CONSTANT(1000000))
/* Longer chains are a loop in corrupt input, not a process tree. */
#define MAX_CHAIN 128
/* Samples a settlement that found no receiver waits for one: the growth
 * of a parent read just before the reap shows in the next reading. */
#define SETTLE_TRIES 2

struct _StAccounts {
  GHashTable *prev; /* pid -> StCollectorPrev */
  GArray *pending;  /* of Settlement, not placed in the last fold */
};

/* The counters folded: CPU ns, syscalls, storage bytes read and written,
 * bytes on IP sockets (live threads' own only: nothing to settle).
 * For I/O the kernel keeps one total (own and reaped children mixed): its
 * growth is all "children", which settlements may take from. */
enum { CPU, SYS, RD, WR, NET, N_COUNTERS };

typedef struct {
  gint32 ppid;
  guint64 window_ns;           /* its own interval, when read apart from the others */
  guint64 d_own[N_COUNTERS];   /* this interval */
  guint64 d_child[N_COUNTERS]; /* growth of the children totals */
  guint64 less[N_COUNTERS];    /* taken back: last readings of exited descendants */
  guint64 d_stime;
  guint threads_charged;
  gboolean has_io;
  gboolean exited; /* a zombie: it receives nothing, its children went up */
} Charge;

/* A process whose last reading must be taken back from whoever received it. */
typedef struct {
  gint32 ppid;
  guint depth;              /* exited ancestors between it and a listed one */
  guint64 last[N_COUNTERS]; /* 0 once placed */
  guint threads;
  guint tries; /* folds it has been tried in */
} Settlement;

static void
prev_free(gpointer p)
{
  StCollectorPrev *prev = p;
  g_free(prev->display_name);
  g_free(prev->app_id);
  g_free(prev->exe);
  g_free(prev);
}

StAccounts *
st_accounts_new(void)
{
  StAccounts *self = g_new0(StAccounts, 1);
  self->prev = g_hash_table_new_full(NULL, NULL, NULL, prev_free);
  self->pending = g_array_new(FALSE, FALSE, sizeof(Settlement));
  return self;
}

void
st_accounts_free(StAccounts *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref(self->prev);
  g_array_unref(self->pending);
  g_free(self);
}

void
st_accounts_reset(StAccounts *self)
{
  g_hash_table_remove_all(self->prev);
  g_array_set_size(self->pending, 0);
}

static guint64
advance(guint64 *base, guint64 reading)
{
  guint64 d = reading > *base ? reading - *base : 0;
  *base = MAX(*base, reading);
  return d;
}

static int
cmp_settlement(gconstpointer a, gconstpointer b)
{
  const Settlement *sa = a, *sb = b;
  return (sa->depth > sb->depth) - (sa->depth < sb->depth);
}

static int
cmp_proc_pid(gconstpointer a, gconstpointer b)
{
  const StProcess *pa = a, *pb = b;
  return (pa->pid > pb->pid) - (pa->pid < pb->pid);
}

/* Takes last back from the first listed process, going up from ppid, whose
 * children total grew enough to hold it: the one the kernel charged; last
 * is cleared then. It stays when none has received it (yet, or ever: it
 * went to a process we cannot see). */
static void
settle(Settlement *s, guint metric, GHashTable *listed, GArray *charges)
{
  gint32 pid = s->ppid;

  if (s->last[metric] == 0)
    return;
  for (guint hops = 0; pid > 0 && hops < MAX_CHAIN; hops++) {
    gpointer idx;
    Charge *c;
    guint64 room, slack;

    if (!g_hash_table_lookup_extended(listed, GINT_TO_POINTER(pid), NULL, &idx))
      return;
    c = &g_array_index(charges, Charge, GPOINTER_TO_UINT(idx));
    room = c->d_child[metric] - MIN(c->less[metric], c->d_child[metric]);
    slack = metric == CPU ? SETTLE_SLACK_NS : 0;
    if (room + slack >= s->last[metric]) {
      c->less[metric] += s->last[metric];
      if (metric == CPU)
        c->threads_charged += s->threads;
      s->last[metric] = 0;
      return;
    }
    /* A parent that is still alive is the only one that can reap it: it
     * was read before the reap, and grows in the next reading. Only a
     * process whose parent has exited (gone, or a zombie) may have been
     * reparented higher up. */
    if (s->depth == 0 && !c->exited)
      return;
    pid = c->ppid;
  }
}

/* Follows ppid up through processes that have gone too (they were reaped,
 * into theirs) to the nearest that may be listed. */
static void
climb_gone(Settlement *s, GHashTable *gone)
{
  StCollectorPrev *up;

  while (s->depth < MAX_CHAIN &&
         (up = g_hash_table_lookup(gone, GINT_TO_POINTER(s->ppid))) != NULL) {
    s->ppid = up->ppid;
    s->depth++;
  }
}

/* Where an exited process's work went: up through its exited ancestors
 * (they were reaped too, into theirs) to the first listed one. */
static void
add_settlement(GArray *settlements, GHashTable *gone, const StCollectorPrev *g, gboolean cpu,
               gboolean sys)
{
  Settlement s = {g->ppid, 0, {0}, g->n_threads, 0};

  if (cpu)
    s.last[CPU] = g->cpu_own_ns + g->cpu_children_ns;
  if (sys)
    s.last[SYS] = g->syscalls_own + g->syscalls_children;
  if (cpu && g->has_io) {
    s.last[RD] = g->io_read;
    s.last[WR] = g->io_write;
  }
  climb_gone(&s, gone);
  if (s.last[CPU] != 0 || s.last[SYS] != 0 || s.last[RD] != 0 || s.last[WR] != 0)
    g_array_append_val(settlements, s);
}

/* Reads of a new process during which its application is looked up again:
 * desktops move a process into its app scope just after it starts (within
 * a second; SCOPE_SETTLED_NS is generous). */
#define SCOPE_LOOKS      3
#define SCOPE_SETTLED_NS (G_GUINT64_CONSTANT(5) * 1000000000)

static StCollectorPrev *
track(GHashTable *prev, GHashTable *gone, const StRawProcess *r, StNameResolver resolve,
      gpointer resolve_data, gboolean baseline, gboolean *is_new)
{
  StCollectorPrev *e = g_hash_table_lookup(prev, GINT_TO_POINTER(r->pid));

  /* Same pid, other start time: the pid was reused, this is a new process
   * and the old one has gone. */
  if (e != NULL && e->start_time != r->start_time) {
    g_hash_table_steal(prev, GINT_TO_POINTER(r->pid));
    if (!e->seen && !g_hash_table_contains(gone, GINT_TO_POINTER(r->pid)))
      g_hash_table_insert(gone, GINT_TO_POINTER(r->pid), e);
    else
      prev_free(e);
    e = NULL;
  }
  *is_new = e == NULL;
  if (e == NULL) {
    e = g_new0(StCollectorPrev, 1);
    e->start_time = r->start_time;
    resolve(r->pid, r->comm, &e->display_name, &e->exe, &e->app_id, resolve_data);
    g_hash_table_insert(prev, GINT_TO_POINTER(r->pid), e);
    /* Listed in a first read (start-up, after a suspend) and running for
     * seconds already: settled where it belongs (a look again would read
     * every process's cgroup twice more). */
    if (baseline && r->age_ns >= SCOPE_SETTLED_NS)
      e->age = SCOPE_LOOKS;
  } else {
    e->age++;
    if (e->app_id == NULL && e->age < SCOPE_LOOKS)
      resolve(r->pid, r->comm, NULL, NULL, &e->app_id, resolve_data);
  }
  return e;
}

/* One sample's work on the tables, kept together for the steps below. */
typedef struct {
  GArray *charges;     /* of Charge, parallel to the raw processes */
  GArray *settlements; /* of Settlement */
  GHashTable *listed;  /* pid -> index in charges */
  GHashTable *gone;    /* pid -> StCollectorPrev of processes not listed any more */
  gboolean rates;
  guint64 interval_ns; /* since the processes were last read */
} Fold;

/* One listed process: its deltas against its bases, and its snapshot entry. */
static void
fold_process(Fold *f, guint i, const StRawProcess *r, StCollectorPrev *e, gboolean is_new,
             StSnapshot *snap)
{
  Charge *c = &g_array_index(f->charges, Charge, i);
  StProcess p = {0};

  /* Zombies the exit hook already charged to their parent: their last
   * reading comes back off the parent, their own count stops. */
  if (f->rates && r->syscalls_settled && !e->syscalls_settled && !is_new) {
    StCollectorPrev last = *e;
    last.ppid = r->ppid;
    add_settlement(f->settlements, f->gone, &last, FALSE, TRUE);
  }
  c->d_own[CPU] = advance(&e->cpu_own_ns, r->cpu_time_ns);
  c->d_child[CPU] = advance(&e->cpu_children_ns, r->cpu_children_ns);
  c->d_stime = advance(&e->stime_ns, r->stime_ns);
  if (!e->syscalls_settled && !r->syscalls_settled) {
    c->d_own[SYS] = advance(&e->syscalls_own, r->syscalls);
    c->d_child[SYS] = advance(&e->syscalls_children, r->syscalls_children);
  }
  /* A process whose I/O became readable (or not) starts over from here. */
  if (r->has_io && (e->has_io || is_new)) {
    c->d_child[RD] = advance(&e->io_read, r->io_read_bytes);
    c->d_child[WR] = advance(&e->io_write, r->io_write_bytes);
  } else if (r->has_io) {
    e->io_read = r->io_read_bytes;
    e->io_write = r->io_write_bytes;
  }
  c->has_io = r->has_io && (e->has_io || is_new);
  /* Network bytes live in each thread's storage and leave with it: a dip
   * is for good, so the base follows the reading down (unlike CPU time,
   * which moves to the group's total and must not come back as a spike). */
  c->d_own[NET] = r->net_bytes > e->net ? r->net_bytes - e->net : 0;
  e->net = r->net_bytes;
  e->has_io = r->has_io;
  e->syscalls_settled = e->syscalls_settled || r->syscalls_settled;
  c->threads_charged = MAX(r->n_threads, 1u);
  c->ppid = r->ppid;
  c->exited = r->exited;
  /* Read one by one over a pass that takes milliseconds under load: a
   * process read later in this pass than in the last one would otherwise
   * get a longer interval's work in the sample's. */
  if (r->read_ns != 0 && e->read_ns != 0 && r->read_ns > e->read_ns && !is_new)
    c->window_ns = r->read_ns - e->read_ns;
  /* New since the processes were last read, maybe seconds ago (a calm
   * stretch): its work is over its own life, not over the time before it
   * existed; never over less than the system's interval, as it would be
   * had every sample read the processes. */
  if (is_new && f->rates && r->age_ns != 0) {
    guint64 floor_ns = snap->interval_s > 0 ? MIN((guint64)(snap->interval_s * 1e9), f->interval_ns)
                                            : f->interval_ns;
    c->window_ns = CLAMP(r->age_ns, floor_ns, f->interval_ns);
  }
  e->read_ns = r->read_ns;
  e->seen = TRUE;
  e->ppid = r->ppid;
  e->n_threads = r->n_threads;
  g_hash_table_insert(f->listed, GINT_TO_POINTER(r->pid), GUINT_TO_POINTER(i));

  p.pid = r->pid;
  p.ppid = r->ppid;
  p.app_id = e->app_id;
  p.start_time = r->start_time;
  p.uid = r->uid;
  memcpy(p.comm, r->comm, sizeof(p.comm));
  p.comm[sizeof(p.comm) - 1] = '\0';
  p.display_name = e->display_name;
  p.exe = e->exe;
  p.cpu_time_ns = r->cpu_time_ns + r->cpu_children_ns;
  p.rss_bytes = r->rss_bytes;
  p.syscalls = r->syscalls + r->syscalls_children;
  p.n_threads = r->n_threads;
  g_array_append_val(snap->processes, p);
}

/* Processes not listed any more: their last readings are taken back from
 * whoever received them, now or in the next fold. */
static void
settle_gone(Fold *f, GHashTable *prev, GArray *pending)
{
  GHashTableIter iter;
  gpointer key, v;

  g_hash_table_iter_init(&iter, prev);
  while (g_hash_table_iter_next(&iter, &key, &v)) {
    if (((StCollectorPrev *)v)->seen)
      continue;
    g_hash_table_iter_steal(&iter);
    g_hash_table_insert(f->gone, key, v);
  }
  if (!f->rates)
    return;
  g_hash_table_iter_init(&iter, f->gone);
  while (g_hash_table_iter_next(&iter, NULL, &v)) {
    const StCollectorPrev *g = v;
    add_settlement(f->settlements, f->gone, g, TRUE, !g->syscalls_settled);
  }
  /* Those left from the last fold: their ancestor may have gone since. */
  for (guint i = 0; i < pending->len; i++) {
    Settlement s = g_array_index(pending, Settlement, i);
    climb_gone(&s, f->gone);
    g_array_append_val(f->settlements, s);
  }
  g_array_set_size(pending, 0);
  /* Nearest first: a child is taken off its parent before a grandchild
   * that went elsewhere is tried on it. */
  g_array_sort(f->settlements, cmp_settlement);
  for (guint i = 0; i < f->settlements->len; i++) {
    Settlement *s = &g_array_index(f->settlements, Settlement, i);
    gboolean left = FALSE;
    for (guint m = 0; m < N_COUNTERS; m++) {
      settle(s, m, f->listed, f->charges);
      left = left || s->last[m] != 0;
    }
    if (left && ++s->tries < SETTLE_TRIES)
      g_array_append_val(pending, *s);
  }
}

void
st_collector_fold(StAccounts *accounts, gboolean have_prev, const StRawSample *raw,
                  guint64 interval_ns, StNameResolver resolve, gpointer resolve_data,
                  StSnapshot *snap)
{
  g_autoptr(GArray) charges = g_array_sized_new(FALSE, TRUE, sizeof(Charge), raw->procs->len);
  g_autoptr(GArray) settlements = g_array_new(FALSE, FALSE, sizeof(Settlement));
  g_autoptr(GHashTable) listed = g_hash_table_new(NULL, NULL);
  g_autoptr(GHashTable) gone = g_hash_table_new_full(NULL, NULL, NULL, prev_free);
  Fold f = {charges, settlements, listed, gone, have_prev && interval_ns > 0, interval_ns};
  gdouble secs = (gdouble)interval_ns / 1e9;
  gdouble max_percent = 100.0 * MAX(snap->n_cpus, 1u);
  GHashTable *prev = accounts->prev;
  GHashTableIter iter;
  gpointer v;

  st_snapshot_clear_processes(snap);
  g_array_set_size(charges, raw->procs->len);
  g_hash_table_iter_init(&iter, prev);
  while (g_hash_table_iter_next(&iter, NULL, &v))
    ((StCollectorPrev *)v)->seen = FALSE;
  for (guint i = 0; i < raw->procs->len; i++) {
    const StRawProcess *r = &g_array_index(raw->procs, StRawProcess, i);
    gboolean is_new;
    StCollectorPrev *e = track(prev, gone, r, resolve, resolve_data, !have_prev, &is_new);
    fold_process(&f, i, r, e, is_new, snap);
  }
  if (!f.rates)
    g_array_set_size(accounts->pending, 0);
  settle_gone(&f, prev, accounts->pending);

  for (guint i = 0; i < snap->processes->len; i++) {
    StProcess *p = &g_array_index(snap->processes, StProcess, i);
    const Charge *c = &g_array_index(charges, Charge, i);
    guint64 work[N_COUNTERS];

    gdouble own_secs = c->window_ns != 0 ? (gdouble)c->window_ns / 1e9 : secs;

    for (guint m = 0; m < N_COUNTERS; m++)
      work[m] = c->d_own[m] + (c->d_child[m] - MIN(c->less[m], c->d_child[m]));
    p->n_threads_charged = c->threads_charged;
    /* Children's time no listed child accounts for (children born and
     * reaped within the interval, and the last stretch of those listed)
     * ran on threads of their own, maybe beside this process on another
     * CPU: at least as many as that time needs at one thread a CPU. */
    if (f.rates && work[CPU] > c->d_own[CPU] && own_secs > 0) {
      gdouble extra = (gdouble)(work[CPU] - c->d_own[CPU]) / 1e9 / own_secs;
      p->n_threads_charged += (guint)ceil(extra);
    }
    /* Never more than the whole machine, whatever the input. */
    p->cpu_percent = f.rates ? MIN(100.0 * (gdouble)work[CPU] / 1e9 / own_secs, max_percent) : NAN;
    p->syscalls_per_s = f.rates && raw->has_syscalls ? (gdouble)work[SYS] / own_secs : NAN;
    p->system_percent =
        f.rates ? MIN(100.0 * (gdouble)c->d_stime / 1e9 / own_secs, p->cpu_percent) : NAN;
    p->disk_read_per_s = f.rates && c->has_io ? (gdouble)work[RD] / own_secs : NAN;
    p->disk_write_per_s = f.rates && c->has_io ? (gdouble)work[WR] / own_secs : NAN;
    p->net_per_s = f.rates && raw->has_net ? (gdouble)work[NET] / own_secs : NAN;
  }
  /* The iterator and readdir() list processes by pid already, but for a
   * few stragglers: sort only when needed (sorting 5,000 records costs more
   * than reading them). */
  for (guint i = 1; i < snap->processes->len; i++) {
    if (g_array_index(snap->processes, StProcess, i - 1).pid >
        g_array_index(snap->processes, StProcess, i).pid) {
      g_array_sort(snap->processes, cmp_proc_pid);
      break;
    }
  }
}
