/* st-procfs-parse.c: parsers of /proc text. Pure: no I/O, no globals. */
#define G_LOG_DOMAIN "smoothtask-procfs-parse"

#include "st-procfs-parse.h"

#include <math.h>
#include <string.h>

GQuark
st_parse_error_quark(void)
{
  return g_quark_from_static_string("st-parse-error-quark");
}

/* A bounded cursor over text that need not be NUL-terminated. */
typedef struct {
  const char *p;
  const char *end;
} Cursor;

static void
skip_spaces(Cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
    c->p++;
}

/* Parses an unsigned decimal; FALSE on no digits or overflow. */
static gboolean
read_u64(Cursor *c, guint64 *out)
{
  guint64 v = 0;
  const char *start;

  skip_spaces(c);
  start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    guint digit = (guint)(*c->p - '0');
    if (v > (G_MAXUINT64 - digit) / 10)
      return FALSE;
    v = v * 10 + digit;
    c->p++;
  }
  if (c->p == start)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
read_i64(Cursor *c, gint64 *out)
{
  gboolean neg = FALSE;
  guint64 v;

  skip_spaces(c);
  if (c->p < c->end && *c->p == '-') {
    neg = TRUE;
    c->p++;
  }
  if (!read_u64(c, &v) || v > (guint64)G_MAXINT64)
    return FALSE;
  *out = neg ? -(gint64)v : (gint64)v;
  return TRUE;
}

static gboolean
skip_field(Cursor *c)
{
  skip_spaces(c);
  if (c->p >= c->end || *c->p == '\n')
    return FALSE;
  while (c->p < c->end && *c->p != ' ' && *c->p != '\n')
    c->p++;
  return TRUE;
}

static gboolean
has_prefix(const char *p, const char *end, const char *prefix)
{
  gsize n = strlen(prefix);
  return (gsize)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

static const char *
next_line(const char *p, const char *end)
{
  const char *nl = memchr(p, '\n', (gsize)(end - p));
  return nl ? nl + 1 : end;
}

gboolean
st_parse_cpu_times(const char *buf, gsize len, StCpuTimes *out, GError **error)
{
  const char *end = buf + len;
  gboolean found = FALSE;
  StCpuTimes t = {0};

  g_return_val_if_fail(buf != NULL || len == 0, FALSE);

  for (const char *line = buf; line < end; line = next_line(line, end)) {
    if (has_prefix(line, end, "cpu ")) {
      Cursor c = {line + 4, end};
      guint64 *fields[] = {&t.user,   &t.nice, &t.system,  &t.idle,
                           &t.iowait, &t.irq,  &t.softirq, &t.steal};
      /* Kernels before 2.6.11 lack steal; the first four are always there. */
      for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (!read_u64(&c, fields[i])) {
          if (i < 4) {
            g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED,
                        "/proc/stat: short cpu line");
            return FALSE;
          }
          break;
        }
      }
      found = TRUE;
    } else if (has_prefix(line, end, "cpu") && line + 3 < end && line[3] >= '0' && line[3] <= '9') {
      t.n_cpus++;
    }
  }
  if (!found) {
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_INVALID, "/proc/stat: no cpu line");
    return FALSE;
  }
  *out = t;
  return TRUE;
}

gboolean
st_parse_meminfo(const char *buf, gsize len, StMemInfo *out, GError **error)
{
  const char *end = buf + len;
  guint64 anon = 0, mapped = 0;
  struct {
    const char *key;
    guint64 *dest;
    gboolean seen;
  } keys[] = {
      {"MemTotal:", &out->total_bytes, FALSE},
      {"MemAvailable:", &out->available_bytes, FALSE},
      {"SwapTotal:", &out->swap_total_bytes, FALSE},
      {"SwapFree:", &out->swap_free_bytes, FALSE},
      {"AnonPages:", &anon, FALSE},
      {"Mapped:", &mapped, FALSE},
  };

  g_return_val_if_fail(out != NULL, FALSE);
  memset(out, 0, sizeof(*out));

  for (const char *line = buf; line < end; line = next_line(line, end)) {
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
      if (has_prefix(line, end, keys[i].key)) {
        Cursor c = {line + strlen(keys[i].key), end};
        guint64 kib;
        /* A number the text ends in may have been cut short. */
        if (!read_u64(&c, &kib) || c.p >= end || kib > G_MAXUINT64 / 1024) {
          g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_INVALID, "/proc/meminfo: bad %s",
                      keys[i].key);
          return FALSE;
        }
        *keys[i].dest = kib * 1024;
        keys[i].seen = TRUE;
      }
    }
  }
  /* MemAvailable exists since 3.14; without it "used" would be a guess. */
  if (!keys[0].seen || !keys[1].seen) {
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED,
                "/proc/meminfo: MemTotal or MemAvailable missing");
    return FALSE;
  }
  if (out->available_bytes > out->total_bytes)
    out->available_bytes = out->total_bytes;
  if (out->swap_free_bytes > out->swap_total_bytes)
    out->swap_free_bytes = out->swap_total_bytes;
  out->resident_bound_bytes =
      keys[4].seen && keys[5].seen && anon <= G_MAXUINT64 - mapped ? anon + mapped : G_MAXUINT64;
  return TRUE;
}

gboolean
st_parse_pid_stat(const char *buf, gsize len, StPidStat *out, GError **error)
{
  const char *end = buf + len;
  const char *open, *close = NULL;
  Cursor c = {buf, end};
  gint64 pid, ppid, threads, cutime, cstime;
  guint64 v;
  gsize comm_len;

  g_return_val_if_fail(out != NULL, FALSE);
  memset(out, 0, sizeof(*out));

  if (!read_i64(&c, &pid) || pid <= 0 || pid > G_MAXINT32)
    goto truncated;
  open = memchr(c.p, '(', (gsize)(end - c.p));
  if (open == NULL)
    goto truncated;
  /* The comm may hold ')' itself: the real end is the last ')' in the file. */
  for (const char *p = end; p > open + 1; p--) {
    if (p[-1] == ')') {
      close = p - 1;
      break;
    }
  }
  if (close == NULL)
    goto truncated;

  comm_len = MIN((gsize)(close - open - 1), sizeof(out->comm) - 1);
  memcpy(out->comm, open + 1, comm_len);
  out->comm[comm_len] = '\0';
  out->pid = (gint32)pid;

  c.p = close + 1;
  skip_spaces(&c);
  if (c.p >= end)
    goto truncated;
  out->state = *c.p++;
  if (!read_i64(&c, &ppid)) /* field 4 */
    goto truncated;
  out->ppid = (gint32)CLAMP(ppid, 0, G_MAXINT32);
  for (int field = 5; field <= 13; field++)
    if (!skip_field(&c))
      goto truncated;
  if (!read_u64(&c, &out->utime_ticks) || !read_u64(&c, &out->stime_ticks)) /* 14, 15 */
    goto truncated;
  if (!read_i64(&c, &cutime) || !read_i64(&c, &cstime)) /* 16, 17: signed in the kernel */
    goto truncated;
  out->cutime_ticks = (guint64)MAX(cutime, 0);
  out->cstime_ticks = (guint64)MAX(cstime, 0);
  for (int field = 18; field <= 19; field++)
    if (!skip_field(&c))
      goto truncated;
  if (!read_i64(&c, &threads)) /* 20 */
    goto truncated;
  out->num_threads = threads;
  if (!read_u64(&c, &v)) /* 21: itrealvalue */
    goto truncated;
  /* Field 23 follows in every kernel: without a separator after 22, the
   * file was cut inside the start time and the number is wrong. */
  if (!read_u64(&c, &out->start_ticks) || c.p >= end || *c.p != ' ') /* 22 */
    goto truncated;
  return TRUE;

truncated:
  g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED, "/proc/<pid>/stat: truncated");
  return FALSE;
}

gboolean
st_parse_statm(const char *buf, gsize len, guint64 *resident_pages, GError **error)
{
  Cursor c = {buf, buf + len};
  guint64 size;

  if (!read_u64(&c, &size) || !read_u64(&c, resident_pages)) {
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED, "/proc/<pid>/statm: truncated");
    return FALSE;
  }
  return TRUE;
}

gboolean
st_cpu_times_delta(const StCpuTimes *prev, const StCpuTimes *cur, gdouble *busy, gdouble *user,
                   gdouble *system, gdouble *idle)
{
  guint64 p_idle = prev->idle + prev->iowait;
  guint64 c_idle = cur->idle + cur->iowait;
  guint64 p_user = prev->user + prev->nice;
  guint64 c_user = cur->user + cur->nice;
  guint64 p_sys = prev->system + prev->irq + prev->softirq;
  guint64 c_sys = cur->system + cur->irq + cur->softirq;
  /* Steal time is the hypervisor's, not this system's: left out of both
   * the busy share and the whole. */
  guint64 p_total = p_idle + p_user + p_sys;
  guint64 c_total = c_idle + c_user + c_sys;
  gdouble total;

  /* Counters only go backwards across a CPU hot-unplug; report nothing then. */
  if (c_total <= p_total || c_idle < p_idle || c_user < p_user || c_sys < p_sys)
    return FALSE;
  total = (gdouble)(c_total - p_total);
  *idle = 100.0 * (gdouble)(c_idle - p_idle) / total;
  *user = 100.0 * (gdouble)(c_user - p_user) / total;
  *system = 100.0 * (gdouble)(c_sys - p_sys) / total;
  *busy = 100.0 - *idle;
  return TRUE;
}

/* "avg10=12.34" -> 12.34, within [start, end). */
static gboolean
read_avg10(const char *start, const char *end, gdouble *out)
{
  const char *key = "avg10=";
  gsize klen = strlen(key);
  char num[32];
  gsize n = 0;
  char *stop;

  for (const char *p = start; p + klen <= end; p++) {
    if (memcmp(p, key, klen) != 0)
      continue;
    p += klen;
    while (p < end && n < sizeof(num) - 1 && (g_ascii_isdigit(*p) || *p == '.'))
      num[n++] = *p++;
    num[n] = '\0';
    if (n == 0)
      return FALSE;
    *out = g_ascii_strtod(num, &stop);
    return *stop == '\0' && *out >= 0 && *out <= 100;
  }
  return FALSE;
}

gboolean
st_parse_pressure(const char *buf, gsize len, gdouble *some_avg10, gdouble *full_avg10,
                  GError **error)
{
  const char *end = buf + len;
  gboolean have_some = FALSE;

  *some_avg10 = NAN;
  *full_avg10 = NAN;
  for (const char *line = buf; line < end; line = next_line(line, end)) {
    const char *line_end = memchr(line, '\n', (gsize)(end - line));
    if (line_end == NULL)
      line_end = end;
    if (has_prefix(line, line_end, "some "))
      have_some = read_avg10(line, line_end, some_avg10);
    else if (has_prefix(line, line_end, "full ") && !read_avg10(line, line_end, full_avg10))
      *full_avg10 = NAN;
  }
  if (!have_some) {
    *some_avg10 = NAN;
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_INVALID, "pressure: no valid some line");
    return FALSE;
  }
  return TRUE;
}

gboolean
st_parse_pid_io(const char *buf, gsize len, guint64 *read_bytes, guint64 *write_bytes,
                GError **error)
{
  const char *end = buf + len;
  guint seen = 0;

  for (const char *line = buf; line < end; line = next_line(line, end)) {
    Cursor c = {line, end};
    if (has_prefix(line, end, "read_bytes:")) {
      c.p += strlen("read_bytes:");
      if (read_u64(&c, read_bytes))
        seen |= 1;
    } else if (has_prefix(line, end, "write_bytes:")) {
      c.p += strlen("write_bytes:");
      if (read_u64(&c, write_bytes))
        seen |= 2;
    }
  }
  if (seen != 3) {
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED,
                "/proc/<pid>/io: read_bytes or write_bytes missing");
    return FALSE;
  }
  return TRUE;
}

static guint64
sat_add(guint64 a, guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

gboolean
st_parse_diskstats(const char *buf, gsize len, StIsWholeDisk is_whole, gpointer data,
                   StIoTotals *out, GError **error)
{
  const char *end = buf + len;

  for (const char *line = buf; line < end; line = next_line(line, end)) {
    Cursor c = {line, end};
    guint64 major, minor, v[7];
    char name[64];
    gsize n = 0;

    if (!read_u64(&c, &major) || !read_u64(&c, &minor))
      continue;
    skip_spaces(&c);
    while (c.p < c.end && *c.p != ' ' && *c.p != '\n' && n + 1 < sizeof(name))
      name[n++] = *c.p++;
    name[n] = '\0';
    /* reads, merged, sectors read, ms, writes, merged, sectors written */
    for (guint i = 0; i < G_N_ELEMENTS(v); i++) {
      if (!read_u64(&c, &v[i])) {
        g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED,
                    "/proc/diskstats: short line for %s", name);
        return FALSE;
      }
    }
    if (n == 0 || !is_whole(name, data))
      continue;
    out->disk_read_bytes =
        sat_add(out->disk_read_bytes, v[2] > G_MAXUINT64 / 512 ? G_MAXUINT64 : v[2] * 512);
    out->disk_write_bytes =
        sat_add(out->disk_write_bytes, v[6] > G_MAXUINT64 / 512 ? G_MAXUINT64 : v[6] * 512);
  }
  return TRUE;
}

gboolean
st_parse_net_dev(const char *buf, gsize len, StIoTotals *out, GError **error)
{
  const char *end = buf + len;

  for (const char *line = buf; line < end; line = next_line(line, end)) {
    const char *colon = memchr(line, ':', (gsize)(end - line));
    const char *eol = memchr(line, '\n', (gsize)(end - line));
    const char *name = line;
    Cursor c;
    guint64 v[9];

    /* The two heading lines have no colon before their end. */
    if (colon == NULL || (eol != NULL && colon > eol))
      continue;
    while (name < colon && *name == ' ')
      name++;
    c = (Cursor){colon + 1, end};
    /* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes */
    for (guint i = 0; i < G_N_ELEMENTS(v); i++) {
      if (!read_u64(&c, &v[i])) {
        g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED, "/proc/net/dev: short line");
        return FALSE;
      }
    }
    if (colon - name == 2 && memcmp(name, "lo", 2) == 0) {
      out->loop_bytes = sat_add(out->loop_bytes, v[0]);
    } else {
      out->net_rx_bytes = sat_add(out->net_rx_bytes, v[0]);
      out->net_tx_bytes = sat_add(out->net_tx_bytes, v[8]);
    }
  }
  return TRUE;
}

gboolean
st_parse_vmstat(const char *buf, gsize len, StVmStat *out, GError **error)
{
  const char *end = buf + len;
  struct {
    const char *key;
    guint64 *dest;
  } keys[] = {
      {"oom_kill ", &out->oom_kills},
      {"pgpgin ", &out->pgpgin_kib},
      {"pgpgout ", &out->pgpgout_kib},
      {"nr_dirtied ", &out->nr_dirtied},
  };
  guint found = 0;

  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    *keys[i].dest = G_MAXUINT64;
  for (const char *line = buf; line < end && found < G_N_ELEMENTS(keys);
       line = next_line(line, end)) {
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
      Cursor c;
      guint64 v;
      if (*keys[i].dest != G_MAXUINT64 || !has_prefix(line, end, keys[i].key))
        continue;
      c = (Cursor){line + strlen(keys[i].key), end};
      if (read_u64(&c, &v) && v != G_MAXUINT64) {
        *keys[i].dest = v;
        found++;
      }
      break;
    }
  }
  if (found == 0) {
    g_set_error(error, ST_PARSE_ERROR, ST_PARSE_ERROR_TRUNCATED, "/proc/vmstat: no counter");
    return FALSE;
  }
  return TRUE;
}
