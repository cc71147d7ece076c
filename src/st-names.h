/* st-names.h: turning raw process names into text a person can read.
 * Pure functions: no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Clean UTF-8 from arbitrary bytes: invalid sequences become U+FFFD and
 * control characters (newlines, tabs, escapes) a space, so a name can never
 * break a line of a table or a notification. Never NULL. */
char *st_sanitize_name(const char *raw, gssize len);

/* The name to show for a process: the base name of the first word of its
 * command line (what the user started: "firefox", not "Web Content" or
 * "/usr/lib/firefox/firefox"), or its comm when it has no command line
 * (kernel threads, zombies). */
char *st_display_name(const char *cmdline, gsize len, const char *comm);

G_END_DECLS
