/* st-support.h: what this machine allows, in plain words (--check). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Prints the report to stdout; returns TRUE when some backend works. */
gboolean st_support_check(void);

G_END_DECLS
