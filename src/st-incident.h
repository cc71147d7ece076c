/* st-incident.h: engine decisions -> what the user sees, one notification
 * per incident.
 *
 * Pure: decisions and the time in, notification requests out. The engine
 * says, per metric and subject, when a figure crossed its threshold and
 * when it came back. A user wants one message about one trouble: every
 * alert on the same resource (CPU, memory, syscalls, disk stalls) is one
 * incident, whether it came from the system figure, an application, a
 * process or pressure stalls; a second resource whose culprit is the same
 * program joins that program's incident. The system figure is context in
 * the body, never a notification of its own when a program is to blame.
 *
 * Shells re-show a banner for every update that arrives after it hid, so a
 * shown incident is updated in place only when its meaning changes (another
 * culprit, warning -> critical, another resource), and then at most once
 * per ST_INCIDENT_MIN_UPDATE_US; other changes wait for the next meaningful
 * update or the recovery. Escalation to critical is the exception: it is
 * exactly what must pop up. A notification the user closed silences its
 * incident until the incident recovers.
 */
#pragma once

#include "st-engine.h"
#include "st-format.h"

G_BEGIN_DECLS

#define ST_INCIDENT_MIN_UPDATE_US (60 * G_USEC_PER_SEC)

typedef enum {
  ST_RESOURCE_CPU,
  ST_RESOURCE_MEMORY,
  ST_RESOURCE_SYSCALLS,
  ST_RESOURCE_IO, /* disk stalls, disk reads and writes */
  ST_RESOURCE_NETWORK,
  ST_N_RESOURCES
} StResource;

typedef enum {
  ST_INCIDENT_SHOW,     /* show, or update in place, the notification of key */
  ST_INCIDENT_RECOVER,  /* replace it with a transient recovery message */
  ST_INCIDENT_WITHDRAW, /* close it */
} StIncidentActionKind;

typedef struct {
  StIncidentActionKind kind;
  char *key; /* "incident-N", stable for the incident's life */
  StNotificationText text;
  /* The culprit's alert on the incident's first resource (for Snooze and
   * Ignore), or the system's when no program is to blame. */
  StDecision *primary;
  gboolean raise; /* the first show of this incident */
} StIncidentAction;

typedef struct _StIncidents StIncidents;

StResource st_metric_resource(StMetric metric);

StIncidents *st_incidents_new(void);
void st_incidents_free(StIncidents *self);
/* Takes one evaluation's decisions; returns a GPtrArray of StIncidentAction
 * (owned by the array), in order. now_us is the caller's monotonic clock. */
GPtrArray *st_incidents_update(StIncidents *self, GPtrArray *decisions, gint64 now_us);
/* The user closed key's notification: quiet until the incident recovers. */
void st_incidents_dismiss(StIncidents *self, const char *key);
/* The primary alert of key's incident, or NULL when it has ended. */
const StDecision *st_incidents_lookup(StIncidents *self, const char *key);
/* Keys of the incidents whose notification is on screen. */
GPtrArray *st_incidents_shown_keys(StIncidents *self);
guint st_incidents_get_n(StIncidents *self);
/* The server lost everything (the bus went away): the next update shows
 * every incident not closed by the user again, as new. */
void st_incidents_reshow(StIncidents *self);
/* Alerts active on a resource (of any metric). */
guint st_incidents_count_alerts(StIncidents *self, StResource resource);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StIncidents, st_incidents_free)

G_END_DECLS
