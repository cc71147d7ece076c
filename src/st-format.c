/* st-format.c: notification text. */
#define G_LOG_DOMAIN "smoothtask-format"

#include "config.h"

#include "st-format.h"
#include "st-names.h"

#include <glib/gi18n.h>

char *
st_format_duration(gdouble seconds)
{
  guint s = seconds > 0 && seconds < G_MAXUINT / 2 ? (guint)(seconds + 0.5) : 0;
  guint n;

  /* The plural form follows the number printed, after rounding. */
  if (s < 90)
    return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u second", "%u seconds", s), s);
  if (s < 90 * 60) {
    n = (s + 30) / 60;
    return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u minute", "%u minutes", n), n);
  }
  n = (s + 1800) / 3600;
  return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u hour", "%u hours", n), n);
}

char *
st_format_value(StMetric metric, gdouble value, guint64 mem_total_bytes)
{
  /* Nothing the collector makes is negative or infinite; if it ever were,
   * "unavailable" beats converting it to an integer (undefined). */
  if (!st_value_available(value) || !isfinite(value) || value < 0)
    return g_strdup(_("unavailable"));
  switch (metric) {
    case ST_METRIC_SYSCALLS:
    case ST_METRIC_PROCESS_SYSCALLS:
    case ST_METRIC_APP_SYSCALLS:
      if (value >= 1e6)
        return g_strdup_printf(_("%.1fM syscalls/s"), value / 1e6);
      if (value >= 1e4)
        return g_strdup_printf(_("%.0fk syscalls/s"), value / 1e3);
      return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%.0f syscall/s", "%.0f syscalls/s",
                                         (gulong)MIN(value + 0.5, (gdouble)G_MAXULONG)),
                             value);
    case ST_METRIC_DISK_READ:
    case ST_METRIC_DISK_WRITE:
    case ST_METRIC_NETWORK:
    case ST_METRIC_PROCESS_DISK_READ:
    case ST_METRIC_PROCESS_DISK_WRITE:
    case ST_METRIC_PROCESS_NETWORK:
    case ST_METRIC_APP_DISK_READ:
    case ST_METRIC_APP_DISK_WRITE:
    case ST_METRIC_APP_NETWORK: {
      /* Decimal units, as disk and network speeds are quoted: "310.0 MB". */
      g_autofree char *size = g_format_size((guint64)MIN(value, 0x1p63));
      /* Translators: a rate, "310.0 MB/s"; %s is a size. */
      return g_strdup_printf(_("%s/s"), size);
    }
    case ST_METRIC_PROCESS_MEMORY:
    case ST_METRIC_APP_MEMORY:
      if (mem_total_bytes > 0) {
        g_autofree char *size =
            g_format_size_full((guint64)MIN(value / 100.0 * (gdouble)mem_total_bytes, 0x1p63),
                               G_FORMAT_SIZE_IEC_UNITS);
        return g_strdup_printf(_("%s (%.0f%% of RAM)"), size, value);
      }
      return g_strdup_printf("%.0f%%", value);
    default:
      return g_strdup_printf("%.0f%%", value);
  }
}

static const char *
metric_summary(const StDecision *d)
{
  gboolean critical = d->level == ST_LEVEL_CRITICAL;
  if (d->kind == ST_DECISION_CLEAR) {
    if (d->metric == ST_METRIC_PRESSURE_IO)
      return _("Disk stalls are back to normal");
    switch (st_metric_per_process(d->metric)) {
      case ST_METRIC_PROCESS_CPU:
        return _("CPU load is back to normal");
      case ST_METRIC_PROCESS_MEMORY:
        return _("Memory use is back to normal");
      case ST_METRIC_PROCESS_DISK_READ:
      case ST_METRIC_PROCESS_DISK_WRITE:
        return _("Disk activity is back to normal");
      case ST_METRIC_PROCESS_NETWORK:
        return _("Network traffic is back to normal");
      default:
        return _("System call rate is back to normal");
    }
  }
  switch (d->metric) {
    case ST_METRIC_CPU:
      return _("High CPU load");
    case ST_METRIC_MEMORY:
      return critical ? _("Memory almost exhausted") : _("Memory is running low");
    case ST_METRIC_SYSCALLS:
      return _("High system call rate");
    case ST_METRIC_PROCESS_CPU:
      return _("A process is using a lot of CPU");
    case ST_METRIC_PROCESS_MEMORY:
      return _("A process is using a lot of memory");
    case ST_METRIC_PROCESS_SYSCALLS:
      return _("A process is making many system calls");
    case ST_METRIC_APP_CPU:
      return _("An application is using a lot of CPU");
    case ST_METRIC_APP_MEMORY:
      return _("An application is using a lot of memory");
    case ST_METRIC_APP_SYSCALLS:
      return _("An application is making many system calls");
    case ST_METRIC_PRESSURE_CPU:
      return _("Programs are waiting for the CPU");
    case ST_METRIC_PRESSURE_MEMORY:
      return critical ? _("The system is stalling for memory")
                      : _("Programs are waiting for memory");
    case ST_METRIC_DISK_READ:
      return _("The disks are busy reading");
    case ST_METRIC_DISK_WRITE:
      return _("The disks are busy writing");
    case ST_METRIC_NETWORK:
      return _("Heavy network traffic");
    case ST_METRIC_PROCESS_DISK_READ:
    case ST_METRIC_APP_DISK_READ:
      return _("A program is reading a lot from disk");
    case ST_METRIC_PROCESS_DISK_WRITE:
    case ST_METRIC_APP_DISK_WRITE:
      return _("A program is writing a lot to disk");
    case ST_METRIC_PROCESS_NETWORK:
    case ST_METRIC_APP_NETWORK:
      return _("A program is moving a lot over the network");
    default:
      return _("Programs are waiting for the disk");
  }
}

char *
st_format_process_label(const char *name, const char *comm)
{
  g_autofree char *clean_name = st_sanitize_name(name, -1);
  g_autofree char *clean_comm = st_sanitize_name(comm, -1);

  /* "firefox (Web Content)": the program, and what the process calls itself
   * when that says more (comm is cut at 15 bytes, so a prefix adds nothing). */
  if (clean_comm[0] == '\0' || g_str_has_prefix(clean_name, clean_comm) ||
      g_str_has_prefix(clean_comm, clean_name))
    return g_steal_pointer(&clean_name);
  if (clean_name[0] == '\0')
    return g_steal_pointer(&clean_comm);
  return g_strdup_printf("%s (%s)", clean_name, clean_comm);
}

/* Appends "firefox (pid 4242, 190%), ..." for the others. */
static void
append_others(GString *s, const StDecision *d, guint64 mem_total)
{
  for (guint i = 0; i < d->others->len; i++) {
    const StOffender *o = &g_array_index(d->others, StOffender, i);
    g_autofree char *name = st_format_process_label(o->name, o->comm);
    StMetric per_proc = st_metric_per_process(d->metric);
    g_autofree char *value = st_format_value(per_proc, o->value, mem_total);
    if (i > 0)
      g_string_append(s, _(", "));
    g_string_append_printf(s, _("%s (pid %d, %s)"), name, o->pid, value);
  }
}

/* How an alert ended: a process that has gone has no figure (its last one,
 * or a 0 from its zombie, would not be true of anything now). */
static char *
clear_text(const StDecision *d, const char *name, const char *value)
{
  GString *s = g_string_new(NULL);

  if (d->reason == ST_CLEAR_EXITED)
    g_string_append_printf(s, _("%s (pid %d) has exited."), name, d->pid);
  else if (!st_value_available(d->value) && d->pid != 0)
    g_string_append_printf(s, _("The alert about %s (pid %d) was withdrawn."), name, d->pid);
  else if (!st_value_available(d->value))
    g_string_append(s, _("The alert was withdrawn."));
  else if (d->pid != 0)
    g_string_append_printf(s, _("%s (pid %d) is at %s now."), name, d->pid, value);
  else
    g_string_append_printf(s, _("Now at %s."), value);
  return g_string_free(s, FALSE);
}

/* The sentence of a system-wide alert: what, how much, for how long. */
static void
system_sentence(GString *s, const StDecision *d, const char *value, const char *duration)
{
  switch (d->metric) {
    case ST_METRIC_CPU:
      g_string_append_printf(s, _("All CPUs have been %s busy for %s."), value, duration);
      break;
    case ST_METRIC_MEMORY:
      if (d->level == ST_LEVEL_CRITICAL && d->mem_total_bytes > 0) {
        /* Critical fires at once: how much is left matters, not for how long. */
        g_autofree char *left = g_format_size_full(MIN(d->mem_available_bytes, d->mem_total_bytes),
                                                   G_FORMAT_SIZE_IEC_UNITS);
        /* Translators: "97% of memory is in use. Only 180 MiB left." */
        g_string_append_printf(s, _("%s of memory is in use. Only %s left."), value, left);
      } else {
        g_string_append_printf(s, _("%s of memory has been in use for %s."), value, duration);
      }
      break;
    case ST_METRIC_SYSCALLS:
      g_string_append_printf(s, _("The system has made %s for %s."), value, duration);
      break;
    case ST_METRIC_PRESSURE_MEMORY:
      if (d->level == ST_LEVEL_CRITICAL)
        g_string_append(s, _("Programs stalled waiting for memory in the last second."));
      else
        g_string_append_printf(s, _("Programs have waited for memory %s of the time for %s."),
                               value, duration);
      break;
    case ST_METRIC_PRESSURE_CPU:
      g_string_append_printf(s, _("Programs have waited for the CPU %s of the time for %s."), value,
                             duration);
      break;
    case ST_METRIC_DISK_READ:
      g_string_append_printf(s, _("The disks have read %s for %s."), value, duration);
      break;
    case ST_METRIC_DISK_WRITE:
      g_string_append_printf(s, _("The disks have written %s for %s."), value, duration);
      break;
    case ST_METRIC_NETWORK:
      g_string_append_printf(s, _("The network has carried %s for %s (received and sent)."), value,
                             duration);
      break;
    default:
      g_string_append_printf(s, _("Programs have waited for the disk %s of the time for %s."),
                             value, duration);
      break;
  }
}

/* The sentence of a program's alert (a process, or an application of its
 * processes): who, what, how much, for how long. */
static void
program_sentence(GString *s, const StDecision *d, const char *name, const char *value,
                 const char *duration)
{
  switch (d->metric) {
    case ST_METRIC_PROCESS_CPU:
      g_string_append_printf(s, _("%s, pid %d, has used %s CPU for %s."), name, d->pid, value,
                             duration);
      break;
    case ST_METRIC_PROCESS_MEMORY:
      g_string_append_printf(s, _("%s, pid %d, holds %s."), name, d->pid, value);
      break;
    case ST_METRIC_PROCESS_SYSCALLS:
      g_string_append_printf(s, _("%s, pid %d, has made %s for %s."), name, d->pid, value,
                             duration);
      break;
    case ST_METRIC_APP_CPU:
      g_string_append_printf(s, _("%s has used %s CPU for %s, all its processes together."), name,
                             value, duration);
      break;
    case ST_METRIC_APP_MEMORY:
      g_string_append_printf(s, _("%s holds %s, all its processes together."), name, value);
      break;
    case ST_METRIC_APP_SYSCALLS:
      g_string_append_printf(s, _("%s has made %s for %s, all its processes together."), name,
                             value, duration);
      break;
    case ST_METRIC_PROCESS_DISK_READ:
      g_string_append_printf(s, _("%s, pid %d, has read %s from disk for %s."), name, d->pid, value,
                             duration);
      break;
    case ST_METRIC_PROCESS_DISK_WRITE:
      g_string_append_printf(s, _("%s, pid %d, has written %s to disk for %s."), name, d->pid,
                             value, duration);
      break;
    case ST_METRIC_PROCESS_NETWORK:
      g_string_append_printf(s, _("%s, pid %d, has sent and received %s for %s."), name, d->pid,
                             value, duration);
      break;
    case ST_METRIC_APP_DISK_READ:
      g_string_append_printf(s, _("%s has read %s from disk for %s, all its processes together."),
                             name, value, duration);
      break;
    case ST_METRIC_APP_DISK_WRITE:
      g_string_append_printf(s, _("%s has written %s to disk for %s, all its processes together."),
                             name, value, duration);
      break;
    case ST_METRIC_APP_NETWORK:
      g_string_append_printf(s,
                             _("%s has sent and received %s for %s, all its processes together."),
                             name, value, duration);
      break;
    default:
      g_assert_not_reached();
  }
}

static char *
body_text(const StDecision *d, guint64 mem_total, gboolean with_others)
{
  g_autofree char *name = st_format_process_label(d->name, d->comm);
  g_autofree char *value = st_format_value(d->metric, d->value, mem_total);
  g_autofree char *threshold = st_format_value(d->metric, d->threshold, mem_total);
  g_autofree char *duration = st_format_duration(d->over_s);
  GString *s = g_string_new(NULL);

  if (d->kind == ST_DECISION_CLEAR) {
    g_string_free(s, TRUE);
    return clear_text(d, name, value);
  }

  if (st_engine_is_process_metric(d->metric) || st_engine_is_app_metric(d->metric))
    program_sentence(s, d, name, value, duration);
  else
    system_sentence(s, d, value, duration);
  g_string_append_printf(s, _(" Threshold: %s."), threshold);
  if (with_others && d->others != NULL && d->others->len > 0) {
    g_string_append_c(s, '\n');
    g_string_append(s, d->pid != 0 ? _("Also high: ") : _("Top: "));
    append_others(s, d, mem_total);
  }
  return g_string_free(s, FALSE);
}

void
st_format_decision(const StDecision *d, StNotificationText *out)
{
  out->summary = g_strdup(metric_summary(d));
  out->plain = body_text(d, d->mem_total_bytes, TRUE);
  out->body = g_markup_escape_text(out->plain, -1);
  out->urgency = d->kind == ST_DECISION_CLEAR ? 0 : d->level == ST_LEVEL_CRITICAL ? 2 : 1;
  /* "device.error" is the closest category of the spec for resource trouble. */
  out->category = d->kind == ST_DECISION_CLEAR ? "device" : "device.error";
  /* An application's own icon says who at a glance. */
  out->icon = g_strdup(d->icon != NULL && d->kind != ST_DECISION_CLEAR ? d->icon
                       : d->kind == ST_DECISION_CLEAR                  ? "dialog-information"
                       : d->level == ST_LEVEL_CRITICAL                 ? "dialog-error"
                                                                       : "dialog-warning");
}

void
st_notification_text_clear(StNotificationText *t)
{
  g_clear_pointer(&t->summary, g_free);
  g_clear_pointer(&t->body, g_free);
  g_clear_pointer(&t->plain, g_free);
  g_clear_pointer(&t->icon, g_free);
}

/* "using 190% CPU", "holding 6.1 GiB (40% of RAM)", "making 3.2M syscalls/s" */
static char *
culprit_phrase(const StDecision *d)
{
  g_autofree char *value = st_format_value(d->metric, d->value, d->mem_total_bytes);
  switch (st_metric_per_process(d->metric)) {
    case ST_METRIC_PROCESS_CPU:
      /* Translators: completes "%s is %s": "firefox is using 190% CPU". */
      return g_strdup_printf(_("using %s CPU"), value);
    case ST_METRIC_PROCESS_MEMORY:
      /* Translators: completes "%s is %s": "firefox is holding 6.1 GiB". */
      return g_strdup_printf(_("holding %s"), value);
    case ST_METRIC_PROCESS_DISK_READ:
      /* Translators: completes "%s is %s": "tracker is reading 210 MB/s from disk". */
      return g_strdup_printf(_("reading %s from disk"), value);
    case ST_METRIC_PROCESS_DISK_WRITE:
      /* Translators: completes "%s is %s": "firefox is writing 310 MB/s to disk". */
      return g_strdup_printf(_("writing %s to disk"), value);
    case ST_METRIC_PROCESS_NETWORK:
      /* Translators: completes "%s is %s": "steam is moving 40 MB/s over the network". */
      return g_strdup_printf(_("moving %s over the network"), value);
    default:
      /* Translators: completes "%s is %s": "make is making 3.2M syscalls/s". */
      return g_strdup_printf(_("making %s"), value);
  }
}

void
st_format_incident(const StDecision *const *primary, guint n_primary,
                   const StDecision *const *context, guint n_context, StNotificationText *out)
{
  const StDecision *first = primary[0];
  GString *body = g_string_new(NULL);
  StLevel level = ST_LEVEL_WARNING;

  g_return_if_fail(n_primary > 0);
  if (first->name != NULL) {
    /* Who is to blame, first: the summary is what a banner shows. */
    g_autofree char *name = st_format_process_label(first->name, first->comm);
    g_autofree char *what = culprit_phrase(first);
    for (guint i = 1; i < n_primary; i++) {
      if (primary[i]->name != NULL && g_strcmp0(primary[i]->subject, first->subject) == 0) {
        g_autofree char *more = culprit_phrase(primary[i]);
        g_autofree char *both = g_strdup_printf(_("%s and %s"), what, more);
        g_free(what);
        what = g_steal_pointer(&both);
      }
    }
    /* Translators: "firefox is using 190% CPU". */
    out->summary = g_strdup_printf(_("%s is %s"), name, what);
  } else {
    out->summary = g_strdup(metric_summary(first));
  }
  for (guint i = 0; i < n_primary; i++) {
    g_autofree char *text = body_text(primary[i], primary[i]->mem_total_bytes, TRUE);
    if (body->len > 0)
      g_string_append_c(body, '\n');
    g_string_append(body, text);
    level = MAX(level, primary[i]->level);
  }
  /* The system figures are context, without their own list of top
   * consumers: the culprit is named above. */
  for (guint i = 0; i < n_context; i++) {
    g_autofree char *text = body_text(context[i], context[i]->mem_total_bytes, FALSE);
    g_string_append_c(body, '\n');
    g_string_append(body, text);
    level = MAX(level, context[i]->level);
  }
  out->plain = g_string_free(body, FALSE);
  out->body = g_markup_escape_text(out->plain, -1);
  out->urgency = level == ST_LEVEL_CRITICAL ? 2 : 1;
  out->category = "device.error";
  out->icon = g_strdup(first->icon != NULL          ? first->icon
                       : level == ST_LEVEL_CRITICAL ? "dialog-error"
                                                    : "dialog-warning");
}

void
st_format_oom_kill(const char *name, const char *comm, gint32 pid, guint64 rss_bytes,
                   GDateTime *when, StNotificationText *out)
{
  g_autofree char *label = st_format_process_label(name, comm);
  g_autofree char *at = g_date_time_format(when, "%H:%M");
  GString *s = g_string_new(NULL);

  /* Translators: a notification's title; %s is a program ("firefox was
   * closed: out of memory"). */
  out->summary = g_strdup_printf(_("%s was closed: out of memory"), label);
  if (rss_bytes > 0) {
    g_autofree char *held = g_format_size_full(rss_bytes, G_FORMAT_SIZE_IEC_UNITS);
    /* Translators: "The kernel ended firefox (pid 4242), which held 6.1 GiB,
     * at 14:02 to free memory." */
    g_string_append_printf(s,
                           _("The kernel ended %s (pid %d), which held %s, at %s to free memory."),
                           label, pid, held, at);
  } else {
    g_string_append_printf(s, _("The kernel ended %s (pid %d) at %s to free memory."), label, pid,
                           at);
  }
  out->plain = g_string_free(s, FALSE);
  out->body = g_markup_escape_text(out->plain, -1);
  /* It has happened and cannot be undone: it stays until the user has seen
   * it (GNOME keeps critical banners on screen). */
  out->urgency = 2;
  out->category = "device.error";
  out->icon = g_strdup("dialog-error");
}
