/* st-hooks.c: D-Bus signals and the alert command. */
#define G_LOG_DOMAIN "smoothtask-hooks"

#include "config.h"

#include "st-hooks.h"
#include "st-dbus-generated.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "st-names.h"

#define OBJECT_PATH "/org/smoothtask/Agent"
/* An alert command gets this long before it is killed. */
#define COMMAND_TIMEOUT_S 10
/* More running at once means the command is stuck: skip, do not pile up.
 * A command runs in a process group of its own; what counts is a group with
 * something alive in it, also after the command itself exited. */
#define MAX_RUNNING 4

struct _StHooks {
  StAgent1 *skeleton;
  gboolean exported; /* on a session bus now */
  char **command;
  GPtrArray *runs; /* Run *, every group not known to be empty */
};

/* The command is spawned without GSubprocess: its pid must be known before
 * anything can reap it (a command as quick as /bin/false is gone before
 * g_subprocess_get_identifier() is asked), and it leads the group. */
typedef struct {
  StHooks *self;
  GPid pgid; /* the command's pid: it leads its own group */
  gboolean exited;
  guint watch_id;
  guint timeout_id;
  char *what;
} Run;

static void run_free(Run *run);

StHooks *
st_hooks_new(GDBusConnection *bus)
{
  StHooks *self = g_new0(StHooks, 1);

  self->runs = g_ptr_array_new();
  self->skeleton = st_agent1_skeleton_new();
  st_agent1_set_backend(self->skeleton, "");
  st_agent1_set_cpu_busy_percent(self->skeleton, -1);
  st_agent1_set_syscalls_per_second(self->skeleton, -1);
  st_agent1_set_disk_read_bytes_per_second(self->skeleton, -1);
  st_agent1_set_disk_write_bytes_per_second(self->skeleton, -1);
  st_agent1_set_network_bytes_per_second(self->skeleton, -1);
  st_hooks_set_bus(self, bus);
  return self;
}

void
st_hooks_set_bus(StHooks *self, GDBusConnection *bus)
{
  g_autoptr(GError) error = NULL;
  GDBusInterfaceSkeleton *skel = G_DBUS_INTERFACE_SKELETON(self->skeleton);

  /* Unexported from a bus that went away, exported again on the next one:
   * the properties keep their latest values. */
  if (g_dbus_interface_skeleton_get_connection(skel) != NULL)
    g_dbus_interface_skeleton_unexport(skel);
  self->exported = FALSE;
  if (bus == NULL)
    return;
  if (!g_dbus_interface_skeleton_export(skel, bus, OBJECT_PATH, &error))
    g_warning("Cannot export %s: %s", OBJECT_PATH, error->message);
  else
    self->exported = TRUE;
}

void
st_hooks_free(StHooks *self)
{
  if (self == NULL)
    return;
  /* Commands still running are left to finish (init reaps them once the
   * agent has gone). */
  for (guint i = 0; i < self->runs->len; i++)
    run_free(g_ptr_array_index(self->runs, i));
  g_ptr_array_unref(self->runs);
  st_hooks_set_bus(self, NULL);
  g_clear_object(&self->skeleton);
  g_strfreev(self->command);
  g_free(self);
}

void
st_hooks_set_command(StHooks *self, char **argv)
{
  g_strfreev(self->command);
  self->command = argv != NULL && argv[0] != NULL && argv[0][0] != '\0' ? g_strdupv(argv) : NULL;
}

static const char *
clear_reason(StClearReason r)
{
  switch (r) {
    case ST_CLEAR_RECOVERED:
      return "recovered";
    case ST_CLEAR_EXITED:
      return "exited";
    default:
      return "muted";
  }
}

static void
run_free(Run *run)
{
  g_clear_handle_id(&run->timeout_id, g_source_remove);
  g_clear_handle_id(&run->watch_id, g_source_remove);
  g_free(run->what);
  g_free(run);
}

/* The run is over: its group is empty, or killed. */
static void
run_finish(Run *run)
{
  g_ptr_array_remove_fast(run->self->runs, run);
  run_free(run);
}

/* Something of the command's group still lives (kill(-pgid, 0): also what
 * it left in the background). EPERM is a live member too. */
static gboolean
group_alive(const Run *run)
{
  return kill(-run->pgid, 0) == 0 || errno == EPERM;
}

/* In the child, before exec: a group of its own, so that the limit can
 * kill everything it started. */
static void
child_setup(gpointer data)
{
  (void)setpgid(0, 0);
}

static gboolean
on_command_timeout(gpointer data)
{
  Run *run = data;

  run->timeout_id = 0;
  if (kill(-run->pgid, SIGKILL) == 0)
    g_warning("alert-command for %s ran over %d s; killed%s", run->what, COMMAND_TIMEOUT_S,
              run->exited ? " what it left running" : "");
  else if (errno != ESRCH)
    g_warning("alert-command for %s ran over %d s and cannot be killed: %s", run->what,
              COMMAND_TIMEOUT_S, g_strerror(errno));
  /* A command still running is reaped in on_command_exit, which ends the
   * run; one that exited left only its group. */
  if (run->exited)
    run_finish(run);
  return G_SOURCE_REMOVE;
}

/* Runs whose command exited and whose group is now empty are over. */
static guint
count_running(StHooks *self)
{
  for (guint i = self->runs->len; i > 0; i--) {
    Run *run = g_ptr_array_index(self->runs, i - 1);
    if (run->exited && !group_alive(run))
      run_finish(run);
  }
  return self->runs->len;
}

static void
on_command_exit(GPid pid, gint status, gpointer data)
{
  Run *run = data;

  run->watch_id = 0; /* the source ends with this call */
  g_spawn_close_pid(pid);
  if (WIFSIGNALED(status))
    g_warning("alert-command for %s killed by signal %d", run->what, WTERMSIG(status));
  else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    g_warning("alert-command for %s exited with status %d", run->what, WEXITSTATUS(status));
  else
    g_debug("alert-command for %s done", run->what);
  run->exited = TRUE;
  /* What it started in the background keeps counting until it ends or
   * the limit kills it. */
  if (run->timeout_id == 0 || !group_alive(run))
    run_finish(run);
  else
    g_debug("alert-command for %s left processes running", run->what);
}

static void
run_command(StHooks *self, const StDecision *d, const StNotificationText *text)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_get_environ();
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char pid[16];
  g_autofree char *subject = st_sanitize_name(d->subject, -1);
  g_autofree char *name = st_sanitize_name(d->name, -1);
  guint running = count_running(self);
  Run *run;

  if (running >= MAX_RUNNING) {
    g_warning("alert-command still running %u times; not starting another", running);
    return;
  }
  env = g_environ_setenv(env, "SMOOTHTASK_EVENT", d->kind == ST_DECISION_CLEAR ? "clear" : "raise",
                         TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_METRIC", st_metric_to_string(d->metric), TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_SUBJECT", subject, TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_NAME", name, TRUE);
  g_snprintf(pid, sizeof(pid), "%d", d->pid);
  env = g_environ_setenv(env, "SMOOTHTASK_PID", pid, TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_VALUE",
                         g_ascii_formatd(buf, sizeof(buf), "%.2f", d->value), TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_THRESHOLD",
                         g_ascii_formatd(buf, sizeof(buf), "%.2f", d->threshold), TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_LEVEL",
                         d->kind == ST_DECISION_CLEAR    ? clear_reason(d->reason)
                         : d->level == ST_LEVEL_CRITICAL ? "critical"
                                                         : "warning",
                         TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_SUMMARY", text->summary, TRUE);
  env = g_environ_setenv(env, "SMOOTHTASK_BODY", text->plain, TRUE);

  run = g_new0(Run, 1);
  run->self = self;
  run->what = g_strdup_printf("%s/%s", st_metric_to_string(d->metric), subject);
  /* Standard input is /dev/null: the command is not the agent's terminal's. */
  if (!g_spawn_async(NULL, self->command, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                     child_setup, NULL, &run->pgid, &error)) {
    g_warning("alert-command %s cannot start: %s", self->command[0], error->message);
    run_free(run);
    return;
  }
  g_ptr_array_add(self->runs, run);
  run->watch_id = g_child_watch_add(run->pgid, on_command_exit, run);
  run->timeout_id = g_timeout_add_seconds(COMMAND_TIMEOUT_S, on_command_timeout, run);
  g_source_set_name_by_id(run->timeout_id, "[smoothtask] alert-command timeout");
}

void
st_hooks_alert(StHooks *self, const StDecision *d, const StNotificationText *text)
{
  if (d->kind == ST_DECISION_UPDATE)
    return; /* the same alert, still on: nothing new to tell */
  if (self->exported) {
    /* The engine and the cgroup parser clean names already; this is the
     * edge where bytes leave the agent, so it does not rely on them: a
     * string argument that is not UTF-8 would fail the whole signal. */
    const char *metric = st_metric_to_string(d->metric);
    g_autofree char *subject = st_sanitize_name(d->subject, -1);
    g_autofree char *name = st_sanitize_name(d->name, -1);
    if (d->kind == ST_DECISION_RAISE)
      st_agent1_emit_alert_raised(self->skeleton, metric, subject, name, d->pid, d->value,
                                  d->threshold,
                                  d->level == ST_LEVEL_CRITICAL ? "critical" : "warning");
    else
      st_agent1_emit_alert_cleared(self->skeleton, metric, subject, name, d->pid, d->value,
                                   d->threshold, clear_reason(d->reason));
  }
  if (self->command != NULL)
    run_command(self, d, text);
}

void
st_hooks_sample(StHooks *self, const StSnapshot *snap, guint active_alerts)
{
  gdouble mem = st_snapshot_mem_used_percent(snap);

  st_agent1_set_backend(self->skeleton, snap->backend);
  st_agent1_set_cpu_busy_percent(
      self->skeleton, st_value_available(snap->cpu_busy_percent) ? snap->cpu_busy_percent : -1);
  st_agent1_set_memory_used_percent(self->skeleton, st_value_available(mem) ? mem : -1);
  st_agent1_set_syscalls_per_second(
      self->skeleton, st_value_available(snap->syscalls_per_s) ? snap->syscalls_per_s : -1);
  st_agent1_set_disk_read_bytes_per_second(
      self->skeleton, st_value_available(snap->disk_read_per_s) ? snap->disk_read_per_s : -1);
  st_agent1_set_disk_write_bytes_per_second(
      self->skeleton, st_value_available(snap->disk_write_per_s) ? snap->disk_write_per_s : -1);
  {
    gdouble net = snap->net_receive_per_s + snap->net_send_per_s;
    st_agent1_set_network_bytes_per_second(self->skeleton, st_value_available(net) ? net : -1);
  }
  st_agent1_set_last_sample(self->skeleton, snap->timestamp_ns / 1000);
  st_agent1_set_active_alerts(self->skeleton, active_alerts);
}
