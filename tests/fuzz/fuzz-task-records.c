/* fuzz-task-records.c: the decoder of what the BPF task iterator hands to
 * user space, on arbitrary bytes: records of any length, order and content. */
#include "st-task-records.h"

#include <stdint.h>
#include <string.h>

#include <linux/types.h>

#include "collector.h"

static void
fold(const uint8_t *data, size_t size, GHashTable *by_tgid, GArray *procs)
{
  gboolean whole = st_task_records_fold(data, size, 4096, by_tgid, procs);
  g_assert(whole == (size % sizeof(struct st_task_rec) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GHashTable *by_tgid = g_hash_table_new(NULL, NULL);
  GArray *procs = g_array_new(FALSE, FALSE, sizeof(StRawProcess));
  guint n;

  fold(data, size, by_tgid, procs);
  n = procs->len;
  g_assert(n <= size / sizeof(struct st_task_rec));
  for (guint i = 0; i < n; i++) {
    const StRawProcess *p = &g_array_index(procs, StRawProcess, i);
    g_assert(p->pid > 0 && p->ppid >= 0);
    g_assert(p->comm[sizeof(p->comm) - 1] == '\0');
  }
  /* Again into the same array, with the scratch table left full: the same
   * processes, appended after the first ones. */
  fold(data, size, by_tgid, procs);
  g_assert(procs->len == 2 * n);
  for (guint i = 0; i < n; i++) {
    const StRawProcess *a = &g_array_index(procs, StRawProcess, i);
    const StRawProcess *b = &g_array_index(procs, StRawProcess, n + i);
    g_assert(a->pid == b->pid && a->ppid == b->ppid && a->uid == b->uid);
    g_assert(a->start_time == b->start_time && a->cpu_time_ns == b->cpu_time_ns);
    g_assert(a->rss_bytes == b->rss_bytes && a->syscalls == b->syscalls);
    g_assert(memcmp(a->comm, b->comm, sizeof(a->comm)) == 0);
  }
  g_array_unref(procs);
  g_hash_table_unref(by_tgid);
  return 0;
}
