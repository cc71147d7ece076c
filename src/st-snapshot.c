/* st-snapshot.c: allocation and small queries over a snapshot. No I/O. */
#include "st-snapshot.h"

#include <string.h>

static void
process_clear(gpointer p)
{
  StProcess *proc = p;
  g_clear_pointer(&proc->display_name, g_free);
}

StSnapshot *
st_snapshot_new(void)
{
  StSnapshot *snap = g_new0(StSnapshot, 1);
  snap->processes = g_array_new(FALSE, TRUE, sizeof(StProcess));
  g_array_set_clear_func(snap->processes, process_clear);
  snap->syscalls_per_s = NAN;
  snap->unattributed_cpu_percent = NAN;
  snap->cpu_busy_percent = NAN;
  snap->cpu_user_percent = NAN;
  snap->cpu_system_percent = NAN;
  snap->cpu_idle_percent = NAN;
  snap->backend = "none";
  return snap;
}

void
st_snapshot_clear_processes(StSnapshot *snap)
{
  g_array_set_size(snap->processes, 0);
}

void
st_snapshot_free(StSnapshot *snap)
{
  if (snap == NULL)
    return;
  g_array_unref(snap->processes);
  g_free(snap);
}

static int
cmp_pid(const void *key, const void *elem)
{
  gint32 pid = *(const gint32 *)key;
  const StProcess *p = elem;
  return (pid > p->pid) - (pid < p->pid);
}

const StProcess *
st_snapshot_find(const StSnapshot *snap, gint32 pid)
{
  if (snap->processes->len == 0)
    return NULL;
  return bsearch(&pid, snap->processes->data, snap->processes->len, sizeof(StProcess), cmp_pid);
}

const char *
st_process_name(const StProcess *proc)
{
  if (proc->display_name != NULL && proc->display_name[0] != '\0')
    return proc->display_name;
  return proc->comm;
}

gdouble
st_snapshot_mem_used_percent(const StSnapshot *snap)
{
  if (snap->mem_total_bytes == 0)
    return NAN;
  return 100.0 * (gdouble)snap->mem_used_bytes / (gdouble)snap->mem_total_bytes;
}

typedef struct {
  guint index;
  gdouble value;
} RankEntry;

static int
cmp_rank(const void *a, const void *b)
{
  const RankEntry *ra = a, *rb = b;
  /* Unavailable values sort last. */
  if (isnan(ra->value) || isnan(rb->value))
    return isnan(ra->value) - isnan(rb->value);
  if (ra->value != rb->value)
    return ra->value < rb->value ? 1 : -1;
  return (ra->index > rb->index) - (ra->index < rb->index);
}

GArray *
st_snapshot_rank(const StSnapshot *snap, gdouble (*metric)(const StProcess *))
{
  guint n = snap->processes->len;
  g_autofree RankEntry *entries = g_new(RankEntry, MAX(n, 1));
  GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(guint), n);

  for (guint i = 0; i < n; i++) {
    entries[i].index = i;
    entries[i].value = metric(&g_array_index(snap->processes, StProcess, i));
  }
  qsort(entries, n, sizeof(RankEntry), cmp_rank);
  for (guint i = 0; i < n; i++)
    g_array_append_val(out, entries[i].index);
  return out;
}
