/* st-dump.c: --dump output. The JSON fields are documented in docs/dump-json.md. */
#define G_LOG_DOMAIN "smoothtask-dump"

#include "config.h"

#include "st-dump.h"
#include "st-names.h"

#include <glib/gi18n.h>

static gdouble
by_cpu(const StProcess *p)
{
  return p->cpu_percent;
}

static void
json_string(GString *s, const char *raw)
{
  g_autofree char *clean = st_sanitize_name(raw, -1);
  g_string_append_c(s, '"');
  for (const char *p = clean; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(s, '\\');
    g_string_append_c(s, *p);
  }
  g_string_append_c(s, '"');
}

static void
json_number(GString *s, gdouble v, int decimals)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *fmt = g_strdup_printf("%%.%df", decimals);
  if (!st_value_available(v) || !isfinite(v))
    g_string_append(s, "null");
  else
    g_string_append(s, g_ascii_formatd(buf, sizeof(buf), fmt, v));
}

static void
json_system(GString *s, const StSnapshot *snap)
{
  g_string_append_printf(s, "\"backend\":\"%s\",\"timestamp_ns\":%" G_GUINT64_FORMAT, snap->backend,
                         snap->timestamp_ns);
  g_string_append(s, ",\"interval_s\":");
  json_number(s, snap->interval_s, 3);
  g_string_append_printf(s, ",\"n_cpus\":%u,\"cpu\":{\"busy_percent\":", snap->n_cpus);
  json_number(s, snap->cpu_busy_percent, 2);
  g_string_append(s, ",\"user_percent\":");
  json_number(s, snap->cpu_user_percent, 2);
  g_string_append(s, ",\"system_percent\":");
  json_number(s, snap->cpu_system_percent, 2);
  g_string_append(s, ",\"idle_percent\":");
  json_number(s, snap->cpu_idle_percent, 2);
  g_string_append_printf(
      s,
      "},\"memory\":{\"total_bytes\":%" G_GUINT64_FORMAT ",\"used_bytes\":%" G_GUINT64_FORMAT
      ",\"available_bytes\":%" G_GUINT64_FORMAT ",\"swap_total_bytes\":%" G_GUINT64_FORMAT
      ",\"swap_used_bytes\":%" G_GUINT64_FORMAT "},\"syscalls_per_s\":",
      snap->mem_total_bytes, snap->mem_used_bytes, snap->mem_available_bytes,
      snap->swap_total_bytes, snap->swap_used_bytes);
  json_number(s, snap->syscalls_per_s, 1);
  g_string_append(s, ",\"unattributed_cpu_percent\":");
  json_number(s, snap->unattributed_cpu_percent, 2);
  g_string_append(s, ",\"pressure\":{\"cpu_some_avg10\":");
  json_number(s, snap->pressure_cpu_some, 2);
  g_string_append(s, ",\"memory_some_avg10\":");
  json_number(s, snap->pressure_memory_some, 2);
  g_string_append(s, ",\"io_full_avg10\":");
  json_number(s, snap->pressure_io_full, 2);
  g_string_append(s, "},\"disk\":{\"read_bytes_per_s\":");
  json_number(s, snap->disk_read_per_s, 0);
  g_string_append(s, ",\"write_bytes_per_s\":");
  json_number(s, snap->disk_write_per_s, 0);
  g_string_append(s, "},\"network\":{\"receive_bytes_per_s\":");
  json_number(s, snap->net_receive_per_s, 0);
  g_string_append(s, ",\"send_bytes_per_s\":");
  json_number(s, snap->net_send_per_s, 0);
}

static void
json_apps(GString *s, const StSnapshot *snap, guint top)
{
  g_string_append(s, "},\"apps\":[");
  for (guint i = 0; i < snap->apps->len && (top == 0 || i < top); i++) {
    const StAppGroup *g = &g_array_index(snap->apps, StAppGroup, i);
    if (i > 0)
      g_string_append_c(s, ',');
    g_string_append(s, "{\"id\":");
    json_string(s, g->id);
    g_string_append(s, ",\"name\":");
    json_string(s, g->name);
    g_string_append_printf(s, ",\"main_pid\":%d,\"process_count\":%u,\"cpu_percent\":", g->main_pid,
                           g->n_processes);
    json_number(s, g->cpu_percent, 2);
    g_string_append_printf(
        s, ",\"rss_bytes\":%" G_GUINT64_FORMAT ",\"syscalls_per_s\":", g->rss_bytes);
    json_number(s, g->syscalls_per_s, 1);
    g_string_append_c(s, '}');
  }
}

static void
json_processes(GString *s, const StSnapshot *snap, guint top)
{
  g_autoptr(GArray) order = st_snapshot_rank(snap, by_cpu);

  g_string_append_printf(s, "],\"process_count\":%u,\"processes\":[", snap->processes->len);
  for (guint i = 0; i < order->len && (top == 0 || i < top); i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, g_array_index(order, guint, i));
    if (i > 0)
      g_string_append_c(s, ',');
    g_string_append_printf(s, "{\"pid\":%d,\"start_time\":%" G_GUINT64_FORMAT ",\"uid\":%u,",
                           p->pid, p->start_time, p->uid);
    g_string_append(s, "\"comm\":");
    json_string(s, p->comm);
    g_string_append(s, ",\"name\":");
    json_string(s, st_process_name(p));
    g_string_append_printf(s, ",\"ppid\":%d,\"app\":", p->ppid);
    if (p->app_id != NULL)
      json_string(s, p->app_id);
    else
      g_string_append(s, "null");
    g_string_append(s, ",\"cpu_percent\":");
    json_number(s, p->cpu_percent, 2);
    g_string_append_printf(s,
                           ",\"cpu_time_ns\":%" G_GUINT64_FORMAT ",\"rss_bytes\":%" G_GUINT64_FORMAT
                           ",\"syscalls_per_s\":",
                           p->cpu_time_ns, p->rss_bytes);
    json_number(s, p->syscalls_per_s, 1);
    g_string_append(s, ",\"syscalls\":");
    if (st_value_available(p->syscalls_per_s))
      g_string_append_printf(s, "%" G_GUINT64_FORMAT, p->syscalls);
    else
      g_string_append(s, "null");
    g_string_append(s, ",\"disk_read_bytes_per_s\":");
    json_number(s, p->disk_read_per_s, 0);
    g_string_append(s, ",\"disk_write_bytes_per_s\":");
    json_number(s, p->disk_write_per_s, 0);
    g_string_append(s, ",\"net_bytes_per_s\":");
    json_number(s, p->net_per_s, 0);
    g_string_append_c(s, '}');
  }
}

char *
st_dump_json(const StSnapshot *snap, guint top)
{
  GString *s = g_string_new("{");

  json_system(s, snap);
  json_apps(s, snap, top);
  json_processes(s, snap, top);
  g_string_append(s, "]}\n");
  return g_string_free(s, FALSE);
}

/* Right-aligns text in a column of width characters (not bytes: headings
 * and sizes are translated, "МиБ" is six bytes). */
static void
pad(GString *s, const char *text, guint width)
{
  glong n = g_utf8_strlen(text, -1);
  for (glong i = n; i < (glong)width; i++)
    g_string_append_c(s, ' ');
  g_string_append(s, text);
  g_string_append_c(s, ' ');
}

static char *
fmt_pct(gdouble v)
{
  return st_value_available(v) ? g_strdup_printf("%.1f%%", v) : g_strdup(_("n/a"));
}

static char *
fmt_rate(gdouble v)
{
  return st_value_available(v) ? g_strdup_printf("%.0f", v) : g_strdup(_("n/a"));
}

/* "12.3 MB/s", or "n/a". */
static char *
fmt_bytes_rate(gdouble v)
{
  g_autofree char *size = NULL;
  if (!st_value_available(v))
    return g_strdup(_("n/a"));
  size = g_format_size((guint64)MAX(v, 0.0));
  /* Translators: a rate, "12.3 MB/s"; %s is a size. */
  return g_strdup_printf(_("%s/s"), size);
}

static void
table_system(GString *s, const StSnapshot *snap)
{
  g_autofree char *busy = fmt_pct(snap->cpu_busy_percent);
  g_autofree char *user = fmt_pct(snap->cpu_user_percent);
  g_autofree char *sys = fmt_pct(snap->cpu_system_percent);
  g_autofree char *idle = fmt_pct(snap->cpu_idle_percent);
  g_autofree char *sc = fmt_rate(snap->syscalls_per_s);
  g_autofree char *used = g_format_size_full(snap->mem_used_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *total = g_format_size_full(snap->mem_total_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *avail = g_format_size_full(snap->mem_available_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *swap = g_format_size_full(snap->swap_used_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *swap_total = g_format_size_full(snap->swap_total_bytes, G_FORMAT_SIZE_IEC_UNITS);

  g_string_append_printf(s, _("Backend: %s, interval %.2f s, %u CPUs\n"), snap->backend,
                         snap->interval_s, snap->n_cpus);
  g_string_append_printf(s, _("CPU:      %s busy (user %s, system %s, idle %s)\n"), busy, user, sys,
                         idle);
  g_string_append_printf(s, _("Memory:   %s of %s used, %s available; swap %s of %s\n"), used,
                         total, avail, swap, swap_total);
  g_string_append_printf(s, _("Syscalls: %s per second\n"), sc);
  {
    g_autofree char *rd = fmt_bytes_rate(snap->disk_read_per_s);
    g_autofree char *wr = fmt_bytes_rate(snap->disk_write_per_s);
    g_autofree char *rx = fmt_bytes_rate(snap->net_receive_per_s);
    g_autofree char *tx = fmt_bytes_rate(snap->net_send_per_s);
    g_string_append_printf(s, _("Disks:    %s read, %s written\n"), rd, wr);
    g_string_append_printf(s, _("Network:  %s received, %s sent (loopback not counted)\n"), rx, tx);
  }
  {
    g_autofree char *pc = fmt_pct(snap->pressure_cpu_some);
    g_autofree char *pm = fmt_pct(snap->pressure_memory_some);
    g_autofree char *pio = fmt_pct(snap->pressure_io_full);
    g_autofree char *un = fmt_pct(snap->unattributed_cpu_percent);
    g_string_append_printf(s, _("Pressure: CPU %s, memory %s, I/O (full) %s\n"), pc, pm, pio);
    g_string_append_printf(s, _("CPU of no listed process: %s of one CPU\n\n"), un);
  }
}

static void
table_apps(GString *s, const StSnapshot *snap, guint top)
{
  if (snap->apps->len > 0) {
    pad(s, _("MAIN PID"), 8);
    pad(s, _("CPU%"), 7);
    pad(s, _("RSS"), 10);
    pad(s, _("SYSCALLS/S"), 12);
    pad(s, _("PROCS"), 6);
    g_string_append_printf(s, " %s\n", _("APPLICATION"));
    for (guint i = 0; i < snap->apps->len && (top == 0 || i < top); i++) {
      const StAppGroup *g = &g_array_index(snap->apps, StAppGroup, i);
      g_autofree char *cpu = st_value_available(g->cpu_percent)
                                 ? g_strdup_printf("%.1f", g->cpu_percent)
                                 : g_strdup(_("n/a"));
      g_autofree char *rss = g_format_size_full(g->rss_bytes, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *rate = fmt_rate(g->syscalls_per_s);
      g_autofree char *name = st_sanitize_name(g->name, -1);
      char num[16];
      g_snprintf(num, sizeof(num), "%d", g->main_pid);
      pad(s, num, 8);
      pad(s, cpu, 7);
      pad(s, rss, 10);
      pad(s, rate, 12);
      g_snprintf(num, sizeof(num), "%u", g->n_processes);
      pad(s, num, 6);
      g_string_append_printf(s, " %s\n", name);
    }
    g_string_append_c(s, '\n');
  }
}

static void
table_processes(GString *s, const StSnapshot *snap, guint top)
{
  g_autoptr(GArray) order = st_snapshot_rank(snap, by_cpu);

  pad(s, _("PID"), 8);
  pad(s, _("UID"), 6);
  pad(s, _("CPU%"), 7);
  pad(s, _("RSS"), 10);
  pad(s, _("SYSCALLS/S"), 12);
  pad(s, _("READ/S"), 11);
  pad(s, _("WRITE/S"), 11);
  g_string_append_printf(s, " %s\n", _("NAME"));
  for (guint i = 0; i < order->len && (top == 0 || i < top); i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, g_array_index(order, guint, i));
    g_autofree char *cpu = st_value_available(p->cpu_percent)
                               ? g_strdup_printf("%.1f", p->cpu_percent)
                               : g_strdup(_("n/a"));
    g_autofree char *rss = g_format_size_full(p->rss_bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *rate = fmt_rate(p->syscalls_per_s);
    g_autofree char *name = st_sanitize_name(st_process_name(p), -1);
    char num[16];
    g_snprintf(num, sizeof(num), "%d", p->pid);
    pad(s, num, 8);
    g_snprintf(num, sizeof(num), "%u", p->uid);
    pad(s, num, 6);
    pad(s, cpu, 7);
    pad(s, rss, 10);
    pad(s, rate, 12);
    {
      g_autofree char *rd = fmt_bytes_rate(p->disk_read_per_s);
      g_autofree char *wr = fmt_bytes_rate(p->disk_write_per_s);
      pad(s, rd, 11);
      pad(s, wr, 11);
    }
    g_string_append_printf(s, " %s\n", name);
  }
}

char *
st_dump_table(const StSnapshot *snap, guint top)
{
  GString *s = g_string_new(NULL);

  table_system(s, snap);
  table_apps(s, snap, top);
  table_processes(s, snap, top);
  return g_string_free(s, FALSE);
}
