/* st-privileges.h: capabilities in and out.
 *
 * The agent needs CAP_BPF and CAP_PERFMON only to load and attach its
 * programs; map and iterator reads work without them. So it drops every
 * capability (effective, permitted, inheritable and ambient) and sets
 * no_new_privs as soon as the collector is ready.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT   38
#define CAP_BPF_BIT       39

/* Effective capability set as a bit mask (bit n = capability n). */
guint64 st_privileges_effective(void);
gboolean st_privileges_has(guint cap);
gboolean st_privileges_drop(GError **error);

G_END_DECLS
