/* st-arming.c: when to count syscalls (see the header). */
#define G_LOG_DOMAIN "smoothtask-arming"

#include "st-arming.h"

gboolean
st_counting_mode_from_string(const char *s, StCountingMode *out)
{
  if (g_strcmp0(s, "on-demand") == 0)
    *out = ST_COUNTING_ON_DEMAND;
  else if (g_strcmp0(s, "always") == 0)
    *out = ST_COUNTING_ALWAYS;
  else if (g_strcmp0(s, "off") == 0)
    *out = ST_COUNTING_OFF;
  else
    return FALSE;
  return TRUE;
}

/* Kernel time, in percent of one CPU, that rate syscalls/s need at least;
 * half of it arms: tick sampling of the kernel time and a storm that has
 * only just started must not slip under. */
static gdouble
trigger_percent(const StArming *self, gdouble rate)
{
  return 0.5 * rate * self->syscall_cost_ns / 1e9 * 100.0;
}

gboolean
st_arming_update(StArming *self, const StSnapshot *snap, guint n_syscall_alerts, gint64 now_us)
{
  gboolean hot = n_syscall_alerts > 0;

  if (self->mode == ST_COUNTING_ALWAYS)
    return TRUE;
  if (self->mode == ST_COUNTING_OFF)
    return FALSE;
  if (self->process_threshold > 0) {
    gdouble at = trigger_percent(self, self->process_threshold);
    for (guint i = 0; !hot && i < snap->processes->len; i++) {
      const StProcess *p = &g_array_index(snap->processes, StProcess, i);
      hot = st_value_available(p->system_percent) && p->system_percent >= at;
    }
  }
  if (!hot && self->system_threshold > 0 && st_value_available(snap->cpu_system_percent))
    hot = snap->cpu_system_percent * snap->n_cpus >= trigger_percent(self, self->system_threshold);
  if (hot)
    self->armed_until_us = now_us + ST_ARMING_CALM_US;
  return now_us < self->armed_until_us;
}

gboolean
st_arming_needs_processes(const StArming *self, const StSnapshot *snap)
{
  gdouble kernel = snap->cpu_system_percent * snap->n_cpus;

  if (self->mode != ST_COUNTING_ON_DEMAND || self->process_threshold <= 0)
    return FALSE;
  return !st_value_available(kernel) || kernel >= trigger_percent(self, self->process_threshold);
}

gboolean
st_calm_needs_processes(StCalm *self, gboolean busy, gint64 now_us)
{
  /* Half an interval of slack: the timer's ticks are not exactly apart. */
  gint64 refresh_us = (gint64)ST_CALM_REFRESH_S * G_USEC_PER_SEC -
                      (gint64)MAX(self->interval_s, 1u) * G_USEC_PER_SEC / 2;
  gboolean need = busy || self->last_read_us == 0 || now_us - self->last_read_us >= refresh_us;

  if (need)
    self->last_read_us = now_us;
  return need;
}

static guint
spacing_s(const StCalm *self)
{
  guint interval = MAX(self->interval_s, 1u);

  return CLAMP(self->sustain_s / ST_CALM_SUSTAIN_SHARE, interval, ST_CALM_MAX_INTERVALS * interval);
}

void
st_calm_observe(StCalm *self, gdouble memory, gint64 now_us)
{
  /* Whether memory in use, at the pace it rose since the last sample,
   * gets to the critical threshold (raised at once) within a spacing. */
  self->climbing = FALSE;
  if (self->memory_critical > 0 && self->last_us != 0 && now_us > self->last_us &&
      st_value_available(memory) && st_value_available(self->last_memory)) {
    gdouble per_s =
        (memory - self->last_memory) / ((gdouble)(now_us - self->last_us) / G_USEC_PER_SEC);
    self->climbing = per_s > 0 && memory + per_s * spacing_s(self) >= self->memory_critical;
  }
  self->last_us = now_us;
  self->last_memory = memory;
}

guint
st_calm_interval_s(const StCalm *self, gboolean busy)
{
  return busy || self->climbing ? MAX(self->interval_s, 1u) : spacing_s(self);
}

gboolean
st_net_arming_update(StNetArming *self, StCountingMode mode, const StSnapshot *snap,
                     guint n_network_alerts, gint64 now_us)
{
  gdouble all = snap->net_receive_per_s + snap->net_send_per_s + 2 * snap->loopback_per_s;
  gboolean hot = n_network_alerts > 0;

  if (self->threshold <= 0 || mode == ST_COUNTING_OFF)
    return FALSE;
  if (mode == ST_COUNTING_ALWAYS)
    return TRUE;
  /* Unknown (no /proc/net/dev) is not calm: it keeps what was decided. */
  hot = hot || (st_value_available(all) && all >= 0.5 * self->threshold);
  if (hot)
    self->armed_until_us = now_us + ST_ARMING_CALM_US;
  return now_us < self->armed_until_us;
}
