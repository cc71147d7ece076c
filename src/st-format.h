/* st-format.h: the words of a notification. Pure: decision in, text out.
 *
 * Every name that reaches a body passes through st_sanitize_name() and
 * g_markup_escape_text(): notification servers render a subset of markup,
 * and a process may call itself "<a href=...>".
 */
#pragma once

#include "st-engine.h"
#include "st-notification-text.h"

G_BEGIN_DECLS

void st_format_decision(const StDecision *d, StNotificationText *out);
/* A process the kernel killed for memory: its name, pid, what it held
 * (0: unknown) and when (local time). */
void st_format_oom_kill(const char *name, const char *comm, gint32 pid, guint64 rss_bytes,
                        GDateTime *when, StNotificationText *out);
/* One notification for an incident: the alerts that speak for its
 * resources (the culprit's, one per resource, or the system's), then
 * context (system figures and pressure stalls on the same resources). */
void st_format_incident(const StDecision *const *primary, guint n_primary,
                        const StDecision *const *context, guint n_context, StNotificationText *out);
/* "190%", "6.1 GiB", "120k/s": a value of a metric as a person reads it. */
char *st_format_value(StMetric metric, gdouble value, guint64 mem_total_bytes);
char *st_format_duration(gdouble seconds);
/* "firefox" or "firefox (Web Content)": sanitized, not escaped. */
char *st_format_process_label(const char *name, const char *comm);

G_END_DECLS
