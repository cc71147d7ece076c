/* st-settings.h: GSettings <-> the engine's config.
 *
 * The only room that knows key names. Re-reads the whole config on any
 * change (one code path for start-up and live changes), validates what the
 * schema's ranges cannot (a NaN double in a keyfile, an empty name), and
 * writes back what the user asks from a notification ("Ignore", "Snooze"),
 * and nothing else: never on its own, on a timer.
 */
#pragma once

#include <gio/gio.h>
#include "st-arming.h"
#include "st-engine-config.h"

G_BEGIN_DECLS

#define ST_SETTINGS_ERROR (st_settings_error_quark())
GQuark st_settings_error_quark(void);

typedef enum {
  ST_SETTINGS_ERROR_NO_SCHEMA,
} StSettingsError;

typedef struct _StSettings StSettings;
typedef void (*StSettingsChangedFunc)(StSettings *settings, gpointer data);

/* Fails with ST_SETTINGS_ERROR_NO_SCHEMA instead of GLib's abort when the
 * schema is not installed. */
StSettings *st_settings_new(GError **error);
void st_settings_free(StSettings *self);
void st_settings_set_changed_func(StSettings *self, StSettingsChangedFunc func, gpointer data);
/* Fills config (clear it with st_engine_config_clear()). Snoozes are kept
 * in wall-clock time (they survive a restart) and handed to the engine in
 * its monotonic time: the caller passes both clocks' now. */
void st_settings_get_config(StSettings *self, StEngineConfig *config, gint64 now_wall_s,
                            gint64 now_mono_us);
/* Mutes a snooze key until now_wall_s + seconds. */
gboolean st_settings_snooze(StSettings *self, const char *key, gint64 until_wall_s);
/* Logs the snoozes that have ended and returns the earliest expiry still
 * ahead, or 0. Writes nothing: an ended snooze is already out of effect
 * (st_settings_get_config() skips it); the key is tidied by the next
 * st_settings_snooze(). */
gint64 st_settings_prune_snoozes(StSettings *self, gint64 now_wall_s);
char **st_settings_get_alert_command(StSettings *self);
guint st_settings_get_interval(StSettings *self);
/* syscall-counting, and off when enable-syscall-monitoring is false. */
StCountingMode st_settings_get_counting(StSettings *self);
gboolean st_settings_add_ignored(StSettings *self, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StSettings, st_settings_free)

G_END_DECLS
