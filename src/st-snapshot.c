/* st-snapshot.c: allocation and small queries over a snapshot. No I/O. */
#define G_LOG_DOMAIN "smoothtask-snapshot"

#include "st-snapshot.h"

#include <string.h>

static void
app_clear(gpointer p)
{
  StAppGroup *g = p;
  g_clear_pointer(&g->id, g_free);
  g_clear_pointer(&g->name, g_free);
  g_clear_pointer(&g->icon, g_free);
}

StSnapshot *
st_snapshot_new(void)
{
  StSnapshot *snap = g_new0(StSnapshot, 1);
  snap->processes = g_array_new(FALSE, TRUE, sizeof(StProcess));
  snap->apps = g_array_new(FALSE, TRUE, sizeof(StAppGroup));
  g_array_set_clear_func(snap->apps, app_clear);
  snap->pressure_cpu_some = snap->pressure_memory_some = snap->pressure_io_full = NAN;
  snap->syscalls_per_s = NAN;
  snap->oom_kills = G_MAXUINT64;
  snap->resident_bound_bytes = G_MAXUINT64;
  snap->block_read_per_s = snap->block_write_per_s = NAN;
  snap->processes_fresh = TRUE; /* empty, but not stale */
  snap->disk_read_per_s = snap->disk_write_per_s = NAN;
  snap->net_receive_per_s = snap->net_send_per_s = snap->loopback_per_s = NAN;
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
  g_array_set_size(snap->apps, 0);
}

void
st_snapshot_free(StSnapshot *snap)
{
  if (snap == NULL)
    return;
  g_array_unref(snap->processes);
  g_array_unref(snap->apps);
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

const StAppGroup *
st_snapshot_find_app(const StSnapshot *snap, const char *id)
{
  for (guint i = 0; i < snap->apps->len; i++)
    if (g_strcmp0(g_array_index(snap->apps, StAppGroup, i).id, id) == 0)
      return &g_array_index(snap->apps, StAppGroup, i);
  return NULL;
}

static int
cmp_app_cpu(gconstpointer a, gconstpointer b)
{
  const StAppGroup *x = a, *y = b;
  gdouble vx = isnan(x->cpu_percent) ? -1 : x->cpu_percent;
  gdouble vy = isnan(y->cpu_percent) ? -1 : y->cpu_percent;
  return (vx < vy) - (vx > vy);
}

void
st_snapshot_group_apps(StSnapshot *snap, StAppDescribeFunc describe, gpointer data)
{
  g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
  gdouble best_cpu;

  g_array_set_size(snap->apps, 0);
  for (guint i = 0; i < snap->processes->len; i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, i);
    gpointer idx;
    StAppGroup *g;

    if (p->app_id == NULL)
      continue;
    if (!g_hash_table_lookup_extended(index, p->app_id, NULL, &idx)) {
      StAppGroup fresh = {0};
      fresh.id = g_strdup(p->app_id);
      fresh.main_pid = p->pid;
      fresh.cpu_percent = fresh.syscalls_per_s = 0;
      fresh.disk_read_per_s = fresh.disk_write_per_s = fresh.net_per_s = 0;
      if (describe != NULL)
        describe(p->app_id, &fresh.name, &fresh.icon, data);
      if (fresh.name == NULL)
        fresh.name = g_strdup(p->app_id);
      idx = GUINT_TO_POINTER(snap->apps->len);
      g_array_append_val(snap->apps, fresh);
      g_hash_table_insert(index, g_array_index(snap->apps, StAppGroup, snap->apps->len - 1).id,
                          idx);
    }
    g = &g_array_index(snap->apps, StAppGroup, GPOINTER_TO_UINT(idx));
    best_cpu = -1;
    if (g->n_processes > 0) {
      const StProcess *main = st_snapshot_find(snap, g->main_pid);
      best_cpu = main != NULL && !isnan(main->cpu_percent) ? main->cpu_percent : -1;
    }
    if (!isnan(p->cpu_percent) && p->cpu_percent > best_cpu)
      g->main_pid = p->pid;
    g->n_processes++;
    /* Unknown stays unknown: one NAN makes the sum NAN. */
    g->cpu_percent += p->cpu_percent;
    g->syscalls_per_s += p->syscalls_per_s;
    g->disk_read_per_s += p->disk_read_per_s;
    g->disk_write_per_s += p->disk_write_per_s;
    g->net_per_s += p->net_per_s;
    g->rss_bytes += p->rss_bytes;
  }
  g_array_sort(snap->apps, cmp_app_cpu);
}
