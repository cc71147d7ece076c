/* st-task-records.c: thread records -> processes. */
#include "st-task-records.h"

#include <string.h>

#include <linux/types.h>

#include "collector.h"

static guint64
sat_add(guint64 a, guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

gboolean
st_task_records_fold(const guint8 *buf, gsize len, guint64 page_size, GHashTable *by_tgid,
                     GArray *procs)
{
  g_hash_table_remove_all(by_tgid);
  for (gsize off = 0; off + sizeof(struct st_task_rec) <= len; off += sizeof(struct st_task_rec)) {
    struct st_task_rec rec;
    StRawProcess *proc;
    gpointer idx;

    memcpy(&rec, buf + off, sizeof(rec));
    /* The kernel never emits these; a corrupt record must not become a pid. */
    if (rec.tgid == 0 || rec.tgid > (guint32)G_MAXINT32)
      continue;
    if (!g_hash_table_lookup_extended(by_tgid, GUINT_TO_POINTER(rec.tgid), NULL, &idx)) {
      StRawProcess fresh = {0};
      fresh.pid = (gint32)rec.tgid;
      fresh.start_time = rec.start_time_ns;
      memcpy(fresh.comm, rec.comm, sizeof(fresh.comm));
      fresh.comm[sizeof(fresh.comm) - 1] = '\0';
      idx = GUINT_TO_POINTER(procs->len);
      g_array_append_val(procs, fresh);
      g_hash_table_insert(by_tgid, GUINT_TO_POINTER(rec.tgid), idx);
    }
    proc = &g_array_index(procs, StRawProcess, GPOINTER_TO_UINT(idx));
    proc->cpu_time_ns = sat_add(proc->cpu_time_ns, rec.exec_ns);
    proc->syscalls = sat_add(proc->syscalls, rec.syscalls);
    if (rec.flags & ST_REC_LEADER) {
      proc->uid = rec.uid;
      proc->ppid = rec.ppid <= (guint32)G_MAXINT32 ? (gint32)rec.ppid : 0;
      proc->cpu_time_ns = sat_add(proc->cpu_time_ns, rec.dead_exec_ns);
      proc->cpu_time_ns = sat_add(proc->cpu_time_ns, rec.child_exec_ns);
      proc->syscalls = sat_add(proc->syscalls, rec.child_syscalls);
      proc->rss_bytes = page_size != 0 && rec.rss_pages > G_MAXUINT64 / page_size
                            ? G_MAXUINT64
                            : rec.rss_pages * page_size;
    }
  }
  return (len % sizeof(struct st_task_rec)) == 0u;
}
