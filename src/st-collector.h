/* st-collector.h: one call per sample fills a snapshot.
 *
 * The collector owns a backend (BPF or /proc), remembers the previous
 * reading of every process keyed by (pid, start time) so that pid reuse never
 * mixes two processes, and turns two readings into rates. It knows nothing of
 * thresholds, settings or notifications.
 */
#pragma once

#include "st-backend.h"
#include "st-snapshot.h"

G_BEGIN_DECLS

typedef enum {
  ST_BACKEND_AUTO,
  ST_BACKEND_BPF,
  ST_BACKEND_PROC,
} StBackendKind;

typedef struct _StCollector StCollector;

gboolean st_backend_kind_from_string(const char *s, StBackendKind *out);

StCollector *st_collector_new(StBackendKind kind);
/* Opens the backend. With ST_BACKEND_AUTO a refused BPF backend falls back to
 * /proc and st_collector_get_fallback_reason() says why. Calling it again
 * once initialised is a no-op. */
gboolean st_collector_init(StCollector *self, GError **error);
/* Takes the BPF descriptors smoothtask-loader handed to this process, if
 * any; call once, before any thread starts. */
void st_collector_claim_handoff(void);
/* Capabilities smoothtask-loader left this process because the running
 * kernel needs them to use BPF descriptors (before Linux 5.19); 0 if none. */
guint64 st_collector_kept_privileges(void);
const char *st_collector_get_backend_name(StCollector *self);
const char *st_collector_get_fallback_reason(StCollector *self);
/* Fills snap; now_ns is CLOCK_MONOTONIC. The first sample after init is a
 * baseline: its rates are NAN and its interval 0. Same as the two calls
 * below, one after the other. */
gboolean st_collector_sample(StCollector *self, guint64 now_ns, StSnapshot *snap, GError **error);
/* A sample in two halves: the system's figures, from a few /proc files,
 * and then, when the caller wants them (st_figures_need_processes()), the
 * processes and applications, whose rates cover the time since they were
 * last read. Without the second call, snap keeps the tables it had and
 * processes_fresh is FALSE. */
gboolean st_collector_sample_system(StCollector *self, guint64 now_ns, StSnapshot *snap,
                                    GError **error);
gboolean st_collector_sample_processes(StCollector *self, StSnapshot *snap, GError **error);
/* Forget the previous reading, e.g. after a suspend: the next sample is a new
 * baseline instead of a rate over hours. */
void st_collector_reset(StCollector *self);
/* Attaches (on) or detaches the hooks that count syscalls. Counting is on
 * after init when the backend can count; figures are NAN while it is off.
 * FALSE with an error when the backend cannot count at all. */
gboolean st_collector_set_syscall_counting(StCollector *self, gboolean on, GError **error);
gboolean st_collector_can_count_syscalls(StCollector *self);
/* The same for bytes per process on IP sockets (off after init). */
gboolean st_collector_set_net_counting(StCollector *self, gboolean on, GError **error);
gboolean st_collector_can_count_net(StCollector *self);
/* Applications whose .desktop name and icon are remembered: bounded by
 * those seen lately, never by every id that ever appeared. */
guint st_collector_get_n_cached_apps(StCollector *self);
void st_collector_free(StCollector *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StCollector, st_collector_free)

G_END_DECLS
