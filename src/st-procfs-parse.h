/* st-procfs-parse.h: pure parsers of kernel text from /proc.
 *
 * Each takes a buffer and its length (no NUL needed), never touches a file
 * descriptor, and copes with truncation and arbitrary bytes: a process may
 * call itself ") 1 2 (" or put a newline in its name.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ST_PARSE_ERROR (st_parse_error_quark())
GQuark st_parse_error_quark(void);

typedef enum {
  ST_PARSE_ERROR_TRUNCATED,
  ST_PARSE_ERROR_INVALID,
} StParseError;

/* Aggregate "cpu " line of /proc/stat, in USER_HZ ticks. */
typedef struct {
  guint64 user, nice, system, idle, iowait, irq, softirq, steal;
  guint n_cpus; /* number of "cpuN" lines */
} StCpuTimes;

typedef struct {
  guint64 total_bytes;
  guint64 available_bytes;
  guint64 swap_total_bytes;
  guint64 swap_free_bytes;
  /* AnonPages + Mapped: every page some process has resident is one of
   * these, so no process's RSS can exceed the sum. G_MAXUINT64 when either
   * line is missing. */
  guint64 resident_bound_bytes;
} StMemInfo;

typedef struct {
  gint32 pid;
  gchar comm[16]; /* up to 15 bytes as the kernel gives them, NUL-terminated */
  gchar state;
  gint32 ppid;
  guint64 utime_ticks;
  guint64 stime_ticks;
  guint64 cutime_ticks; /* reaped children, whole subtrees */
  guint64 cstime_ticks;
  guint64 start_ticks; /* since boot */
  gint64 num_threads;
} StPidStat;

gboolean st_parse_cpu_times(const char *buf, gsize len, StCpuTimes *out, GError **error);
gboolean st_parse_meminfo(const char *buf, gsize len, StMemInfo *out, GError **error);
gboolean st_parse_pid_stat(const char *buf, gsize len, StPidStat *out, GError **error);
/* statm: returns the resident field, in pages. */
gboolean st_parse_statm(const char *buf, gsize len, guint64 *resident_pages, GError **error);

/* /proc/<pid>/io: read_bytes and write_bytes (storage, not the page cache). */
gboolean st_parse_pid_io(const char *buf, gsize len, guint64 *read_bytes, guint64 *write_bytes,
                         GError **error);

/* Cumulative counters of the whole machine's storage and network. */
typedef struct {
  guint64 disk_read_bytes; /* whole disks only */
  guint64 disk_write_bytes;
  guint64 net_rx_bytes; /* every interface but loopback */
  guint64 net_tx_bytes;
  guint64 loop_bytes; /* loopback, received (as much is sent) */
} StIoTotals;

/* Whether a /proc/diskstats device is a whole disk: not a partition, a
 * loop, RAM or zram device, nor a device-mapper or md volume stacked on
 * disks already counted. */
typedef gboolean (*StIsWholeDisk)(const char *name, gpointer data);
/* /proc/diskstats: adds the whole disks' sectors read and written (x 512). */
gboolean st_parse_diskstats(const char *buf, gsize len, StIsWholeDisk is_whole, gpointer data,
                            StIoTotals *out, GError **error);
/* /proc/vmstat, the counters read each sample; G_MAXUINT64 for a line
 * that is missing. */
typedef struct {
  guint64 oom_kills;   /* oom_kill (Linux 4.13) */
  guint64 pgpgin_kib;  /* read by the block layer, KiB */
  guint64 pgpgout_kib; /* written by the block layer, KiB */
  guint64 nr_dirtied;  /* pages of the page cache made dirty */
} StVmStat;
/* FALSE only when none of the counters is there. */
gboolean st_parse_vmstat(const char *buf, gsize len, StVmStat *out, GError **error);
/* /proc/net/dev: adds received and sent bytes. */
gboolean st_parse_net_dev(const char *buf, gsize len, StIoTotals *out, GError **error);

/* /proc/pressure/<resource>: the avg10 of the "some" and "full" lines, in
 * percent; a missing "full" line (cpu before 5.13) gives NAN. */
gboolean st_parse_pressure(const char *buf, gsize len, gdouble *some_avg10, gdouble *full_avg10,
                           GError **error);

/* Busy/user/system/idle percentages of all CPUs between two readings.
 * Returns FALSE when the counters went backwards or did not move. */
gboolean st_cpu_times_delta(const StCpuTimes *prev, const StCpuTimes *cur, gdouble *busy,
                            gdouble *user, gdouble *system, gdouble *idle);

G_END_DECLS
