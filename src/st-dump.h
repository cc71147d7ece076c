/* st-dump.h: one sample printed for people (a table) or scripts (JSON). */
#pragma once

#include "st-snapshot.h"

G_BEGIN_DECLS

/* Pure: returns the text for a snapshot; top limits the process rows. */
char *st_dump_table(const StSnapshot *snap, guint top);
char *st_dump_json(const StSnapshot *snap, guint top);

G_END_DECLS
