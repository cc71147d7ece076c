/* st-backend.h: what a collector backend must provide.
 *
 * A backend reads cumulative, per-process counters (CPU time, RSS, syscalls)
 * in one call. It knows nothing of rates, thresholds or notifications: turning
 * two readings into per-second figures is st-collector.c's job, and is the
 * same for every backend.
 */
#pragma once

#include <glib.h>

#include "st-raw-sample.h"

G_BEGIN_DECLS

#define ST_COLLECTOR_ERROR (st_collector_error_quark())
GQuark st_collector_error_quark(void);

typedef enum {
  ST_COLLECTOR_ERROR_UNSUPPORTED, /* this backend cannot run here; the message says why */
  ST_COLLECTOR_ERROR_FAILED,      /* it ran and a read failed */
} StCollectorError;

typedef struct _StBackend StBackend;
struct _StBackend {
  const char *name;
  gboolean (*read)(StBackend *self, StRawSample *out, GError **error);
  /* Attaches or detaches the hooks that count syscalls; NULL when the
   * backend cannot count them. */
  gboolean (*set_counting)(StBackend *self, gboolean on, GError **error);
  /* The same for bytes on IP sockets; NULL when it cannot count them
   * (no BPF, or a kernel before 6.3 without the socket tracepoints). */
  gboolean (*set_net_counting)(StBackend *self, gboolean on, GError **error);
  void (*free)(StBackend *self);
};

/* proc_root is "/proc" except in tests that point it at fixtures. */
StBackend *st_backend_proc_new(const char *proc_root, GError **error);
/* NULL with ST_COLLECTOR_ERROR_UNSUPPORTED when built without BPF or when the
 * kernel or privileges refuse; the message is meant for the user. */
StBackend *st_backend_bpf_new(GError **error);
/* Takes what smoothtask-loader handed over (SMOOTHTASK_BPF); call before
 * any thread starts. */
void st_backend_bpf_claim_handoff(void);
guint64 st_backend_bpf_kept_privileges(void);
/* What smoothtask-loader did for this process, for --check: NULL when it
 * did not run. */
char *st_backend_bpf_describe_handoff(void);

/* Reads a small /proc file into buf (NUL-terminated); -1 with errno on error. */
gssize st_read_small_file(int dirfd, const char *path, char *buf, gsize size);
/* Reads a whole file of any length into buf (grown as needed, NUL-terminated;
 * its len is the capacity, not the length); -1 with errno on error. */
gssize st_read_whole_file(int dirfd, const char *path, GByteArray *buf);
/* The same for a file kept open: read again from its start. */
gssize st_reread_file(int fd, GByteArray *buf);

G_END_DECLS
