/* st-task-records.h: decoding what the BPF task iterator hands to user space.
 * Pure: bytes in, per-process totals out. Kept apart from the backend so that
 * it can be tested and fuzzed without a kernel. */
#pragma once

#include "st-raw-sample.h"

G_BEGIN_DECLS

/* Folds per-thread records into processes appended to procs. by_tgid is
 * scratch (tgid -> index), emptied first. Returns FALSE when len is not a
 * whole number of records (the complete records are still used). */
gboolean st_task_records_fold(const guint8 *buf, gsize len, guint64 page_size, GHashTable *by_tgid,
                              GArray *procs);

G_END_DECLS
