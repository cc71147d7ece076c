/* loader.c: smoothtask-loader, the one SmoothTask file with capabilities.
 *
 * Installed with cap_bpf,cap_perfmon=ep. `smoothtask` executes it when it
 * cannot load its kernel programs itself; it then:
 *   1. takes the user's lock (one set of kernel programs per user),
 *   2. loads the programs for the running kernel and attaches the iterator,
 *   3. finds out, in a child without capabilities, whether the descriptors
 *      work there (on Linux 5.11-5.18 every bpf() command may need one),
 *   4. drops every capability (or keeps the one the kernel needs, ambient,
 *      which does not make the agent's start AT_SECURE),
 *   5. closes every other descriptor and executes BINDIR/smoothtask with
 *      the same arguments and SMOOTHTASK_BPF naming the descriptors.
 * It reads no test switch and no path from the caller: the agent it runs is
 * the installed one. When anything fails, the agent still starts, told why
 * (SMOOTHTASK_BPF="refused ..."), and uses /proc.
 */
#define G_LOG_DOMAIN "smoothtask-loader"

#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <gio/gio.h>

#include "st-bpf-set.h"
#include "st-instance.h"
#include "st-privileges.h"

/* PREFIX/bin/smoothtask for this PREFIX/libexec/smoothtask-loader; the
 * loader's own path is the kernel's, not the caller's. */
static char *
agent_path(void)
{
  g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
  const char *tail = "/" LIBEXECDIR_REL "/smoothtask-loader";

  if (self == NULL || !g_str_has_suffix(self, tail))
    return g_strdup(BINDIR "/smoothtask");
  self[strlen(self) - strlen(tail)] = '\0';
  return g_strconcat(self, "/" BINDIR_REL "/smoothtask", NULL);
}

/* In a child holding only keep: do the descriptors work? 0 when they do,
 * else the errno of the first step that failed. */
static int
probe(const StBpfSet *set, guint64 keep)
{
  pid_t pid = fork();
  int status;

  if (pid < 0)
    return errno;
  if (pid == 0) {
    char buf[4096];
    /* An exit status holds 8 bits: kernel-internal errnos (524, ENOTSUPP)
     * would arrive as something else. */
#define PROBE_EXIT(e) _exit((e) > 0 && (e) < 256 ? (e) : EOPNOTSUPP)
    guint32 zero = 0;
    g_autofree void *values = NULL;
    int fd, link;

    if (!st_privileges_drop_except(keep, NULL))
      PROBE_EXIT(EPERM);
    fd = bpf_iter_create(set->iter_link);
    if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
      PROBE_EXIT(errno);
    values = g_malloc0(256 * 1024); /* per-CPU values, any CPU count */
    if (bpf_map_lookup_elem(set->counts, &zero, values) < 0)
      PROBE_EXIT(errno);
    link = bpf_raw_tracepoint_open(NULL, set->hooks[0]);
    if (link < 0)
      PROBE_EXIT(errno);
    _exit(0);
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return errno;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int
probe_cb(guint64 keep, gpointer data)
{
  return probe(data, keep);
}

/* An agent that keeps a capability must be the one installed with the
 * loader, root's and not writable by anyone else: a hard link of the loader
 * elsewhere must not hand a capability to a binary of the caller's. */
static gboolean
agent_is_installed(const char *agent)
{
  struct stat st, dir;
  return g_strcmp0(agent, BINDIR "/smoothtask") == 0 && stat(agent, &st) == 0 &&
         stat(BINDIR, &dir) == 0 && st.st_uid == 0 && dir.st_uid == 0 &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 && (dir.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* What an agent that keeps a capability may read from its caller: the
 * session it runs in, never a path to code (GIO_EXTRA_MODULES,
 * GDK_PIXBUF_MODULE_FILE and the like load modules into it). */
static void
keep_session_environment(void)
{
  const char *names[] = {"PATH",
                         "HOME",
                         "USER",
                         "LOGNAME",
                         "SHELL",
                         "LANG",
                         "LANGUAGE",
                         "TZ",
                         "DISPLAY",
                         "WAYLAND_DISPLAY",
                         "XAUTHORITY",
                         "DBUS_SESSION_BUS_ADDRESS",
                         "DESKTOP_SESSION",
                         "GSETTINGS_BACKEND",
                         "INVOCATION_ID",
                         "JOURNAL_STREAM"};
  g_auto(GStrv) env = g_get_environ();

  clearenv();
  for (guint i = 0; env[i] != NULL; i++) {
    g_autofree char *name = g_strndup(env[i], strcspn(env[i], "="));
    const char *value = env[i] + strlen(name) + (env[i][strlen(name)] == '=' ? 1 : 0);
    gboolean keep = g_str_has_prefix(name, "LC_") || g_str_has_prefix(name, "XDG_");
    for (guint k = 0; k < G_N_ELEMENTS(names) && !keep; k++)
      keep = strcmp(name, names[k]) == 0;
    if (keep)
      (void)setenv(name, value, 1);
  }
}

/* Only fds 0-2 and the set's survive exec. */
static void
close_others(StBpfSet *set)
{
  int *slots[ST_BPF_N_FDS], mine[ST_BPF_N_FDS];
  DIR *dir = opendir("/proc/self/fd");
  struct dirent *e;

  st_bpf_set_slots(set, slots, NULL);
  for (guint i = 0; i < ST_BPF_N_FDS; i++) {
    mine[i] = *slots[i];
    if (mine[i] >= 0)
      (void)fcntl(mine[i], F_SETFD, 0);
  }
  if (dir == NULL)
    return;
  while ((e = readdir(dir)) != NULL) {
    int fd = atoi(e->d_name);
    gboolean keep = fd <= 2 || fd == dirfd(dir) || e->d_name[0] == '.';
    for (guint i = 0; i < G_N_ELEMENTS(mine) && !keep; i++)
      keep = fd == mine[i];
    if (!keep)
      (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  closedir(dir);
}

/* What the agent may keep must be permitted and inheritable to be raised
 * ambient; everything else goes. */
static gboolean
hand_over_privileges(guint64 keep)
{
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

  if (keep == 0)
    return st_privileges_drop(NULL);
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  data[0].effective = data[0].permitted = data[0].inheritable = (guint32)keep;
  data[1].effective = data[1].permitted = data[1].inheritable = (guint32)(keep >> 32);
  if (syscall(SYS_capset, &header, data) != 0)
    return FALSE;
  for (guint cap = 0; cap < 64; cap++) {
    if ((keep & (G_GUINT64_CONSTANT(1) << cap)) != 0 &&
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return FALSE;
  }
  return TRUE;
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;
  g_autofree char *handoff = NULL;
  g_autofree char *agent = agent_path();
  StBpfSet set;
  guint64 keep = 0;
  int lock, failed = 0;

  st_bpf_set_init(&set);
  /* The agent's --debug shows libbpf's lines; they are printed here, while
   * the loader loads. */
  for (int i = 1; i < argc && g_strcmp0(argv[i], "--") != 0; i++)
    if (g_strcmp0(argv[i], "--debug") == 0)
      g_log_set_debug_enabled(TRUE);
  /* One set of kernel programs per user. */
  lock = st_instance_lock("bpf", &error);
  if (lock < 0)
    why = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS)
              ? g_strdup("another SmoothTask of this user holds the kernel programs (one set "
                         "per user)")
              : g_strdup(error->message);
  g_clear_error(&error);
  if (lock >= 0 && !st_bpf_set_load(&set, FALSE, &error)) {
    why = g_strdup(error->message);
    close(lock);
  } else if (lock >= 0) {
    set.lock = lock;
    keep = st_bpf_decide_privileges(probe_cb, &set, &failed);
    if (keep != ST_BPF_NO_WAY && keep != 0 && !agent_is_installed(agent)) {
      why = g_strdup_printf("this kernel needs the agent to keep a capability, which only %s "
                            "installed by root may",
                            BINDIR "/smoothtask");
      st_bpf_set_close(&set);
    } else if (keep == ST_BPF_NO_WAY) {
      why = g_strdup_printf("this kernel does not let an unprivileged agent use its BPF "
                            "descriptors, even with CAP_BPF and CAP_PERFMON kept (%s)",
                            g_strerror(failed));
      st_bpf_set_close(&set);
    } else {
      set.keep = keep;
    }
  }
  handoff = set.iter_link >= 0 ? st_bpf_set_to_string(&set) : g_strconcat("refused ", why, NULL);
  if (!hand_over_privileges(set.iter_link >= 0 ? keep : 0)) {
    fprintf(stderr, "smoothtask-loader: cannot drop capabilities: %s\n", g_strerror(errno));
    return 127;
  }
  close_others(&set);
  if (set.iter_link >= 0 && keep != 0)
    keep_session_environment();
  if (setenv(ST_BPF_ENV, handoff, 1) != 0)
    return 127;
  argv[0] = agent;
  execv(agent, argv);
  fprintf(stderr, "smoothtask-loader: cannot run %s: %s\n", agent, g_strerror(errno));
  return 127;
}
