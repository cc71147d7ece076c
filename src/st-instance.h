/* st-instance.h: per-user locks that need no bus and no file.
 *
 * An abstract socket named after the uid is bound for as long as its
 * descriptor is open; the kernel frees the name however the holder ends, so
 * there is no stale lock to clean up. Used for one agent per user (also
 * without a session bus) and one set of kernel programs per user (the
 * loader). Another user can squat a name and so push this user's agent to
 * /proc or keep it from starting: the log then says which lock is held.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A close-on-exec descriptor holding "org.smoothtask.Agent/<what>/<uid>",
 * or -1 with error (G_IO_ERROR_EXISTS when another process holds it). */
int st_instance_lock(const char *what, GError **error);

G_END_DECLS
