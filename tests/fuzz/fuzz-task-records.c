/* fuzz-task-records.c: the decoder of what the BPF task iterator hands to
 * user space, on arbitrary bytes. */
#include "st-task-records.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GHashTable *by_tgid = g_hash_table_new(NULL, NULL);
  GArray *procs = g_array_new(FALSE, FALSE, sizeof(StRawProcess));

  st_task_records_fold(data, size, 4096, by_tgid, procs);
  for (guint i = 0; i < procs->len; i++) {
    const StRawProcess *p = &g_array_index(procs, StRawProcess, i);
    g_assert(p->pid > 0);
    g_assert(p->comm[sizeof(p->comm) - 1] == '\0');
  }
  g_array_unref(procs);
  g_hash_table_unref(by_tgid);
  return 0;
}
