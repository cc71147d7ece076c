/* st-snapshot.h: the plain data one sample produces.
 *
 * The snapshot is the only thing the collector hands on. It holds no GObject,
 * no file descriptor and no pointer into a backend. A figure that a backend
 * cannot measure is NAN (see st_value_available()), never 0: downstream code
 * must not mistake "unknown" for "idle".
 */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

/* One process (thread group) as seen over one interval. */
typedef struct {
  gint32 pid;
  gint32 ppid;
  /* Borrowed strings: they belong to whoever filled the snapshot (the
   * collector keeps them until its next sample); copy what you keep. */
  const char *app_id; /* application (app-*.scope or service) it belongs to, or NULL */
  guint64 start_time; /* backend-specific start stamp; (pid, start_time) is the identity */
  guint32 uid;
  gchar comm[16];           /* kernel comm, NUL-terminated, raw bytes */
  const char *display_name; /* exe base name or first cmdline word, UTF-8; may be NULL */
  const char *exe;          /* path of the executable, raw bytes; NULL when unreadable */
  gdouble cpu_percent;      /* percent of one CPU over the interval */
  gdouble system_percent;   /* of which in the kernel (sampled at ticks); NAN at first */
  guint64 cpu_time_ns;      /* cumulative CPU time of the process */
  guint64 rss_bytes;        /* resident set size */
  gdouble syscalls_per_s;   /* NAN when unavailable */
  guint64 syscalls;         /* cumulative count; meaningless when syscalls_per_s is NAN */
  /* Bytes per second it caused to be read from and written to storage (not
   * served from the page cache); NAN when unavailable (others' processes
   * on /proc, a kernel without task I/O accounting). */
  gdouble disk_read_per_s;
  gdouble disk_write_per_s;
  /* Bytes per second sent and received on its IP sockets (loopback too);
   * NAN while the network hooks are not attached. */
  gdouble net_per_s;
  guint n_threads; /* now; 0 when unknown */
  /* Threads whose work the figures of this interval include, at least: its
   * own, those of listed descendants that exited and were charged to it,
   * and as many as its children's other time needs (one CPU each). */
  guint n_threads_charged;
} StProcess;

/* All processes of one application: GNOME and KDE start each application
 * in its own systemd scope (app-gnome-firefox-1234.scope). */
typedef struct {
  char *id;        /* application id from the cgroup ("firefox", "org.gnome.Terminal") */
  char *name;      /* name to show: the .desktop file's, else the id */
  char *icon;      /* icon name from the .desktop file, or NULL */
  gint32 main_pid; /* its process using the most CPU */
  guint n_processes;
  gdouble cpu_percent; /* percent of one CPU, all processes together */
  guint64 rss_bytes;
  gdouble syscalls_per_s;
  gdouble disk_read_per_s; /* NAN when none of its processes' is known */
  gdouble disk_write_per_s;
  gdouble net_per_s;
} StAppGroup;

typedef struct {
  guint64 timestamp_ns; /* CLOCK_MONOTONIC at the end of the interval */
  gdouble interval_s;   /* length of the interval this snapshot covers; 0 for the first */
  guint n_cpus;

  /* System CPU, percent of all CPUs over the interval (sum of busy = user + system + other). */
  gdouble cpu_busy_percent;
  gdouble cpu_user_percent;
  gdouble cpu_system_percent;
  gdouble cpu_idle_percent;

  guint64 mem_total_bytes;
  guint64 mem_used_bytes; /* total - available, as free(1) and GNOME System Monitor show it */
  guint64 mem_available_bytes;
  guint64 swap_total_bytes;
  guint64 swap_used_bytes;

  gdouble syscalls_per_s; /* NAN when syscalls are not being counted */

  /* Bytes per second: whole disks read and written (/proc/diskstats), and
   * received and sent on every interface but loopback (/proc/net/dev). NAN
   * when unknown. loopback_per_s: received on loopback (local traffic,
   * not a figure to show: it only tells the network hooks when to arm). */
  gdouble disk_read_per_s;
  gdouble disk_write_per_s;
  gdouble net_receive_per_s;
  gdouble net_send_per_s;
  gdouble loopback_per_s;

  /* /proc/vmstat oom_kill: OOM kills since boot, G_MAXUINT64 when unknown. */
  guint64 oom_kills;

  /* What the system's own counters allow any one program, known without
   * reading a single process (st_figures_need_processes()): its resident
   * memory cannot exceed anonymous + file-mapped pages (G_MAXUINT64 when
   * unknown); the bytes it is charged for reading pass the block layer
   * (vmstat pgpgin), for writing dirty the page cache or pass the block
   * layer (nr_dirtied + pgpgout). Bytes per second, NAN when unknown. */
  guint64 resident_bound_bytes;
  gdouble block_read_per_s;
  gdouble block_write_per_s;

  /* CPU time of processes that exited during the interval, when the backend
   * knows it (BPF), and the system CPU time no listed process accounts for.
   * NAN when unknown. */
  gdouble unattributed_cpu_percent;

  /* Pressure stall information (percent of time, 10 s average); NAN
   * without PSI. memory_stall_triggered: a PSI trigger fired for this sample. */
  gdouble pressure_cpu_some;
  gdouble pressure_memory_some;
  gdouble pressure_io_full;
  gboolean memory_stall_triggered;

  const char *backend; /* static string: "bpf" or "proc" */
  /* Whether this sample read the processes. When it did not (nothing could
   * be near a threshold), processes and apps are those of the last sample
   * that did, taken at processes_ns. */
  gboolean processes_fresh;
  guint64 processes_ns;
  GArray *processes; /* of StProcess, sorted by pid */
  GArray *apps;      /* of StAppGroup, by CPU use, largest first */
} StSnapshot;

static inline gboolean
st_value_available(gdouble v)
{
  return !isnan(v);
}

StSnapshot *st_snapshot_new(void);
void st_snapshot_free(StSnapshot *snap);
void st_snapshot_clear_processes(StSnapshot *snap);
const StProcess *st_snapshot_find(const StSnapshot *snap, gint32 pid);
const StAppGroup *st_snapshot_find_app(const StSnapshot *snap, const char *id);
/* Groups processes by app_id into snap->apps; names and icons come from
 * describe (may be NULL: the id is the name). */
typedef void (*StAppDescribeFunc)(const char *id, char **name, char **icon, gpointer data);
void st_snapshot_group_apps(StSnapshot *snap, StAppDescribeFunc describe, gpointer data);
const char *st_process_name(const StProcess *proc);
gdouble st_snapshot_mem_used_percent(const StSnapshot *snap);
/* Indices of processes sorted by a metric, largest first; caller frees. */
GArray *st_snapshot_rank(const StSnapshot *snap, gdouble (*metric)(const StProcess *));

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StSnapshot, st_snapshot_free)

G_END_DECLS
