/* st-privileges.h: capabilities in and out.
 *
 * CAP_BPF and CAP_PERFMON are needed only to load the programs; using them
 * (iterator, map, attaching a loaded hook) needs nothing on recent kernels.
 * smoothtask-loader, or the agent run as root, drops every capability
 * (effective, permitted, inheritable and ambient) once they are loaded, and
 * keeps, where an older kernel needs it, only what a probe found (see
 * st-bpf-set.h). No no_new_privs: what the agent starts may use pkexec.
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
/* The same but for keep (a mask as above), which stays effective and
 * permitted, never inheritable or ambient: nothing the agent starts gets it. */
gboolean st_privileges_drop_except(guint64 keep, GError **error);

G_END_DECLS
