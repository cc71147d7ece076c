/* st-names.h: turning raw process names into text a person can read.
 * Pure functions: no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Clean UTF-8 from arbitrary bytes: invalid sequences become U+FFFD and
 * control characters (newlines, tabs, escapes) a space, so a name can never
 * break a line of a table or a notification. Never NULL. */
char *st_sanitize_name(const char *raw, gssize len);

/* The name to show for a process: the base name of its argv[0] (what the
 * user started: "firefox", not "Web Content" or "/usr/lib/firefox/firefox").
 * A title the process set in place is cut at its first space, and one in the
 * form "sshd: user@pts/0" gives "sshd". With no command line, or one that
 * cleans to nothing, the sanitized comm (kernel threads, zombies); when that
 * is empty too, "process". Always valid UTF-8 without control or bidi
 * characters, never empty, never NULL. */
char *st_display_name(const char *cmdline, gsize len, const char *comm);

G_END_DECLS
