/* st-task-records.c: thread records -> processes. */
#define G_LOG_DOMAIN "smoothtask-task-records"

#include "st-task-records.h"

#include <string.h>

#include <linux/types.h>

#include "collector.h"

static guint64
sat_add(guint64 a, guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

static StRawProcess *
add_process(GArray *procs, const struct st_task_rec *rec)
{
  StRawProcess fresh = {0};
  fresh.pid = (gint32)rec->tgid;
  fresh.start_time = rec->start_time_ns;
  memcpy(fresh.comm, rec->comm, sizeof(fresh.comm));
  fresh.comm[sizeof(fresh.comm) - 1] = '\0';
  g_array_append_val(procs, fresh);
  return &g_array_index(procs, StRawProcess, procs->len - 1);
}

static void
add_thread(StRawProcess *proc, const struct st_task_rec *rec, guint64 page_size)
{
  proc->n_threads++;
  proc->cpu_time_ns = sat_add(proc->cpu_time_ns, rec->exec_ns);
  proc->syscalls = sat_add(proc->syscalls, rec->syscalls);
  proc->stime_ns = sat_add(proc->stime_ns, rec->stime_ns);
  proc->net_bytes = sat_add(proc->net_bytes, rec->net);
  if (rec->flags & ST_REC_IO) {
    proc->has_io = TRUE;
    proc->io_read_bytes = sat_add(proc->io_read_bytes, rec->io_read);
    proc->io_write_bytes = sat_add(proc->io_write_bytes, rec->io_write);
  }
  if (rec->flags & ST_REC_LEADER) {
    proc->uid = rec->uid;
    proc->ppid = rec->ppid <= (guint32)G_MAXINT32 ? (gint32)rec->ppid : 0;
    proc->cpu_time_ns = sat_add(proc->cpu_time_ns, rec->dead_exec_ns);
    proc->cpu_children_ns = rec->child_exec_ns;
    proc->age_ns = rec->age_ns;
    proc->syscalls_children = rec->child_syscalls;
    proc->syscalls_settled = (rec->flags & ST_REC_SETTLED) != 0;
    proc->exited = (rec->flags & ST_REC_EXITED) != 0;
    proc->rss_bytes = page_size != 0 && rec->rss_pages > G_MAXUINT64 / page_size
                          ? G_MAXUINT64
                          : rec->rss_pages * page_size;
  }
}

gboolean
st_task_records_fold(const guint8 *buf, gsize len, guint64 page_size, GHashTable *by_tgid,
                     GArray *procs)
{
  const gsize size = sizeof(struct st_task_rec);
  g_autoptr(GArray) strays = NULL;
  guint first = procs->len;
  gint current = -1;

  /* The iterator walks tasks in tid order, so a process's leader (tid ==
   * tgid) nearly always comes right before its threads: fold those without
   * any lookup. Threads away from their leader are few; they get a hash. */
  g_hash_table_remove_all(by_tgid);
  for (gsize off = 0; off + size <= len; off += size) {
    struct st_task_rec rec;

    memcpy(&rec, buf + off, size);
    /* The kernel never emits these; a corrupt record must not become a pid. */
    if (rec.tgid == 0 || rec.tgid > (guint32)G_MAXINT32)
      continue;
    if (rec.tid == rec.tgid) {
      add_thread(add_process(procs, &rec), &rec, page_size);
      current = (gint)procs->len - 1;
    } else if (current >= 0 &&
               g_array_index(procs, StRawProcess, current).pid == (gint32)rec.tgid) {
      add_thread(&g_array_index(procs, StRawProcess, current), &rec, page_size);
    } else {
      if (strays == NULL)
        strays = g_array_new(FALSE, FALSE, sizeof(gsize));
      g_array_append_val(strays, off);
    }
  }
  for (guint i = 0; strays != NULL && i < strays->len; i++) {
    struct st_task_rec rec;
    gpointer idx;

    if (g_hash_table_size(by_tgid) == 0)
      for (guint j = first; j < procs->len; j++)
        g_hash_table_insert(by_tgid, GINT_TO_POINTER(g_array_index(procs, StRawProcess, j).pid),
                            GUINT_TO_POINTER(j));
    memcpy(&rec, buf + g_array_index(strays, gsize, i), size);
    if (!g_hash_table_lookup_extended(by_tgid, GUINT_TO_POINTER(rec.tgid), NULL, &idx)) {
      /* Its leader was not listed (it exited first): the process still is. */
      add_process(procs, &rec);
      idx = GUINT_TO_POINTER(procs->len - 1);
      g_hash_table_insert(by_tgid, GUINT_TO_POINTER(rec.tgid), idx);
    }
    add_thread(&g_array_index(procs, StRawProcess, GPOINTER_TO_UINT(idx)), &rec, page_size);
  }
  return (len % size) == 0u;
}
