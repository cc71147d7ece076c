/* st-bpf-set.h: the kernel programs of one agent, as file descriptors.
 *
 * Loading needs CAP_BPF and CAP_PERFMON; using what was loaded does not (on
 * Linux 5.19 and later): reading the task iterator, the per-CPU count map,
 * and attaching the counting hooks on demand all work on descriptors. So
 * the set is loaded either by the agent itself (run as root) or by
 * smoothtask-loader, the one file with capabilities, which hands the
 * descriptors to the agent it then executes without any capability.
 *
 * The hand-over is an environment variable the loader sets and the agent
 * takes (and removes) before it starts any thread:
 *   SMOOTHTASK_BPF="v1 iter=3 counts=4 hooks=5,6,7 net=9,10 deferred=1 old-rss=0 lock=8 keep=0"
 *   SMOOTHTASK_BPF="refused <why, for the log>"
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ST_BPF_ENV       "SMOOTHTASK_BPF"
#define ST_BPF_MAX_HOOKS 3

typedef struct {
  int iter_link; /* the task iterator, attached */
  int counts;    /* the per-CPU syscall totals (cpu_counts) */
  /* The counting hooks, in attach order (exit, [switch], enter); -1 after. */
  int hooks[ST_BPF_MAX_HOOKS];
  /* The network hooks (send, receive); -1 on kernels before 6.3. */
  int net[2];
  gboolean deferred; /* syscalls counted per CPU, moved at context switch */
  gboolean old_rss;  /* the pre-6.2 RSS counter layout */
  int lock;          /* the per-user lock the loader took, or -1 */
  guint64 keep;      /* capabilities the loader left the agent (old kernels) */
} StBpfSet;

void st_bpf_set_init(StBpfSet *set);
/* Every descriptor slot of the set, and the kind of BPF object each must
 * hold (NULL: the lock, a socket), for loops over them. */
#define ST_BPF_N_FDS 8
void st_bpf_set_slots(StBpfSet *set, int *slots[ST_BPF_N_FDS], const char *kinds[ST_BPF_N_FDS]);
/* Closes every descriptor and resets the set. */
void st_bpf_set_close(StBpfSet *set);

/* Loads the programs for the running kernel and attaches the iterator.
 * test_switches: whether SMOOTHTASK_TEST_BPF_DIRECT may choose the per-task
 * scheme (never in the loader, which has capabilities). */
gboolean st_bpf_set_load(StBpfSet *set, gboolean test_switches, GError **error);

/* The hand-over text, and back (pure: the descriptors are not checked). */
char *st_bpf_set_to_string(const StBpfSet *set);
gboolean st_bpf_set_parse(const char *text, StBpfSet *set, GError **error);

/* Whether fd is a BPF object of this kind ("link", "map" or "prog"),
 * from /proc/self/fdinfo. */
gboolean st_bpf_fd_is(int fd, const char *kind);

/* What the agent must keep to use the descriptors: the first of none,
 * CAP_BPF, CAP_BPF + CAP_PERFMON with which probe (a child holding only
 * keep, in the loader; a fake one in tests) returns 0. A failure other than
 * EPERM/EACCES is not a matter of privilege: ST_BPF_NO_WAY then, as when
 * none works, with the errno in *failed. */
#define ST_BPF_NO_WAY G_MAXUINT64
typedef int (*StBpfProbe)(guint64 keep, gpointer data);
guint64 st_bpf_decide_privileges(StBpfProbe probe, gpointer data, int *failed);

/* Explains why the kernel refused, for the log and --check. */
const char *st_bpf_explain_errno(int err);

G_END_DECLS
