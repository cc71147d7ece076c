/* st-cgroup.h: which application a process belongs to, from its cgroup.
 * Pure: text of /proc/<pid>/cgroup in, application id out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The application id of "app[-<launcher>]-<id>-<random>.scope" or
 * "app[-<launcher>]-<id>[@<random>].service" (the systemd desktop
 * convention that GNOME and KDE follow), or the name of a user service
 * ("pipewire" for ".../user@1000.service/.../pipewire.service"). NULL for
 * login sessions, system services and anything else. Prefers the unified
 * (cgroup v2) line, then the name=systemd one of a hybrid set-up.
 * An id is never empty and only ever made of [A-Za-z0-9._-]: one that would
 * hold anything else after unescaping gives NULL. */
char *st_app_id_from_cgroup(const char *text, gsize len);

G_END_DECLS
