/* st-backend.h: what a collector backend must provide.
 *
 * A backend reads cumulative, per-process counters (CPU time, RSS, syscalls)
 * in one call. It knows nothing of rates, thresholds or notifications: turning
 * two readings into per-second figures is st-collector.c's job, and is the
 * same for every backend.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ST_COLLECTOR_ERROR (st_collector_error_quark())
GQuark st_collector_error_quark(void);

typedef enum {
  ST_COLLECTOR_ERROR_UNSUPPORTED, /* this backend cannot run here; the message says why */
  ST_COLLECTOR_ERROR_FAILED,      /* it ran and a read failed */
} StCollectorError;

typedef struct {
  gint32 pid;
  gint32 ppid; /* 0 when unknown */
  guint32 uid;
  guint64 start_time; /* backend-specific; only compared for equality */
  gchar comm[16];
  guint n_threads;
  /* Cumulative counters. "own" is what the process's threads did; the
   * "children" totals are what the kernel added when it reaped its children
   * (whole subtrees), which st-accounting.c charges once. */
  guint64 cpu_time_ns;
  guint64 cpu_children_ns;
  guint64 stime_ns; /* of cpu_time_ns, the time spent in the kernel */
  guint64 rss_bytes;
  /* Valid when the sample's has_syscalls is set. */
  guint64 syscalls;
  guint64 syscalls_children;
  /* The process has exited (a zombie not yet reaped) and its syscalls went
   * to its parent's syscalls_children already. */
  gboolean syscalls_settled;
} StRawProcess;

typedef struct {
  GArray *procs; /* of StRawProcess */
  gboolean has_syscalls;
  guint64 syscalls_total; /* cumulative, all CPUs */
} StRawSample;

typedef struct _StBackend StBackend;
struct _StBackend {
  const char *name;
  gboolean (*read)(StBackend *self, StRawSample *out, GError **error);
  /* Attaches or detaches the hooks that count syscalls; NULL when the
   * backend cannot count them. */
  gboolean (*set_counting)(StBackend *self, gboolean on, GError **error);
  void (*free)(StBackend *self);
};

/* proc_root is "/proc" except in tests that point it at fixtures. */
StBackend *st_backend_proc_new(const char *proc_root, GError **error);
/* NULL with ST_COLLECTOR_ERROR_UNSUPPORTED when built without BPF or when the
 * kernel or privileges refuse; the message is meant for the user. */
StBackend *st_backend_bpf_new(GError **error);

/* Reads a small /proc file into buf (NUL-terminated); -1 with errno on error. */
gssize st_read_small_file(int dirfd, const char *path, char *buf, gsize size);
/* Reads a whole file of any length into buf (grown as needed, NUL-terminated;
 * its len is the capacity, not the length); -1 with errno on error. */
gssize st_read_whole_file(int dirfd, const char *path, GByteArray *buf);

G_END_DECLS
