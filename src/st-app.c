/* st-app.c: the running agent. */
#define G_LOG_DOMAIN "smoothtask"

#include "config.h"

#include "st-app.h"
#include "st-arming.h"
#include "st-engine.h"
#include "st-format.h"
#include "st-gap.h"
#include "st-hook-switch.h"
#include "st-hooks.h"
#include "st-incident.h"
#include "st-instance.h"
#include "st-notifier.h"
#include "st-oom.h"
#include "st-presenter.h"
#include "st-privileges.h"
#include "st-psi.h"
#include "st-session.h"
#include "st-settings.h"
#include "st-system.h"

#include <errno.h>
#include <signal.h>
#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <string.h>
#include <glib/gi18n.h>

struct _StApp {
  GMainLoop *loop;
  StSession *session; /* the bus and the name on it */
  StCollector *collector;
  StEngine *engine;
  StIncidents *incidents;
  StArming arming;
  StHookSwitch syscall_hooks;
  StOomWatch *oom; /* who an OOM kill ended */
  StNetArming net_arming;
  StCalm calm;
  StHookSwitch net_hooks;
  StSettings *settings;
  StNotifier *notifier;
  StHooks *hooks;
  StSnapshot *snapshot;
  gint64 last_tick_us;
  StPsi *psi;        /* the memory-stall trigger, or NULL */
  guint psi_tick_id; /* a sample deferred after a stall, see on_psi_event */
  gboolean psi_fired;
  gint64 next_snooze_end; /* wall-clock seconds; 0: none */
  guint timeout_id;
  guint interval_s;
  guint period_s;      /* of the timer: the interval, or longer while calm */
  guint last_period_s; /* the period armed after the last sample */
  guint signal_ids[5];
  StPresenter *presenter; /* the incidents' notifications and buttons */
  guint64 n_samples;
  int instance_lock; /* one agent per user (st-instance.h), or -1 */
};

/* How long an exit waits for the server to take the withdrawals. */
#define NOTIFIER_EXIT_TIMEOUT_MS 2000

static void arm_timer(StApp *self, guint period_s);
static void schedule_next(StApp *self);

/* The agent's clock for the engine, incidents and snoozes: CLOCK_BOOTTIME,
 * which goes on during a suspend, so that a suspend is a gap (st-gap.h).
 * Rates are measured on the monotonic clock (sample_ns()): CPU time does not
 * advance while suspended either, and LastSample is documented monotonic. */
static gint64
now_us(void)
{
  return st_gap_boottime_us();
}

static guint64
sample_ns(void)
{
  return (guint64)g_get_monotonic_time() * 1000;
}

/* Attaching costs milliseconds: done from an idle after the sample, off
 * its path (st-hook-switch.c). */
static void
update_counting(StApp *self, gint64 now)
{
  if (st_collector_can_count_syscalls(self->collector))
    st_hook_switch_want(
        &self->syscall_hooks,
        st_arming_update(&self->arming, self->snapshot,
                         st_incidents_count_alerts(self->incidents, ST_RESOURCE_SYSCALLS), now));
  /* The network hooks, from the interfaces' counters, which cost nothing. */
  if (st_collector_can_count_net(self->collector))
    st_hook_switch_want(
        &self->net_hooks,
        st_net_arming_update(&self->net_arming, ST_COUNTING_ON_DEMAND, self->snapshot,
                             st_incidents_count_alerts(self->incidents, ST_RESOURCE_NETWORK), now));
}

/* One notification per process the kernel killed for memory, also in the
 * D-Bus signal and the alert-command (metric "oom-kill"). */
static void
report_oom_kills(StApp *self)
{
  g_autoptr(GArray) victims = NULL;
  guint unnamed = 0;

  victims = st_oom_watch_update(self->oom, self->snapshot->oom_kills, self->snapshot, &unnamed);
  if (unnamed > 0)
    g_message("%u OOM kill(s) of no process of this user's that was listed", unnamed);
  for (guint i = 0; i < victims->len; i++) {
    const StOomVictim *v = &g_array_index(victims, StOomVictim, i);
    g_autoptr(GDateTime) when = g_date_time_new_now_local();
    g_autofree char *key = g_strdup_printf("oom/%d:%" G_GUINT64_FORMAT, v->pid, v->start_time);
    g_auto(StNotificationText) text = {0};
    StDecision d = {0};

    st_format_oom_kill(v->name, v->comm, v->pid, v->rss_bytes, when, &text);
    g_message("%s: %s", text.summary, text.plain);
    d.kind = ST_DECISION_RAISE;
    d.metric = ST_METRIC_OOM_KILL;
    d.level = ST_LEVEL_CRITICAL;
    d.subject = key + strlen("oom/");
    d.name = v->name;
    g_strlcpy(d.comm, v->comm, sizeof(d.comm));
    d.pid = v->pid;
    d.value = (gdouble)v->rss_bytes;
    st_hooks_alert(self->hooks, &d, &text);
    st_notifier_show(self->notifier, key, &text, NULL, FALSE, NULL, NULL);
  }
}

/* Whether a process of that pid exists (a signal 0 checks, sends nothing):
 * an OOM candidate gone while the counter did not move exited on its own.
 * A pid reused within the seconds between two reads of the processes
 * would keep a candidate it should not: rare, and said in the docs. */
static gboolean
pid_alive(gint32 pid)
{
  return kill(pid, 0) == 0 || errno == EPERM;
}

/* Whether anything is going on or within reach: then every sample reads
 * the processes, one interval apart (StCalm). @why (may be NULL): for the
 * log. */
static gboolean
is_busy(StApp *self, const char **why)
{
  const char *unused;

  why = why != NULL ? why : &unused;
  *why = NULL;
  if (self->psi_fired || self->syscall_hooks.on || self->syscall_hooks.want || self->net_hooks.on ||
      self->net_hooks.want || st_oom_watch_needs_processes(self->oom, self->snapshot->oom_kills))
    return TRUE;
  if (st_arming_needs_processes(&self->arming, self->snapshot)) {
    *why = "the kernel time leaves room for a syscall storm";
    return TRUE;
  }
  return st_engine_needs_processes(self->engine, self->snapshot, why);
}

/* Reading every process is most of a sample's cost: only when something is
 * going on or within reach (st_calm_needs_processes()). */
static gboolean
wants_processes(StApp *self, gint64 now)
{
  const char *why = NULL;
  gboolean busy;

  self->snapshot->memory_stall_triggered = self->psi_fired;
  busy = is_busy(self, &why);
  if (st_calm_needs_processes(&self->calm, busy, now)) {
    g_debug("Reading the processes%s%s", why != NULL ? ": " : "", why != NULL ? why : "");
    return TRUE;
  }
  return FALSE;
}

static gboolean on_tick(gpointer data);

/* The interval the gap rule (st_gap_exceeded()) counts in: the samples may
 * have been a calm spacing apart, or the period changed live in between. */
static guint
gap_base_s(StApp *self)
{
  return MAX(self->interval_s, MAX(self->last_period_s, self->period_s));
}

static gboolean
on_psi_deferred(gpointer data)
{
  StApp *self = data;

  self->psi_tick_id = 0;
  /* A regular tick in between has already told the engine. */
  if (self->psi_fired)
    on_tick(self);
  return G_SOURCE_REMOVE;
}

/* A memory stall: sample now instead of at the next tick, so that the
 * alert (and who holds the memory) comes within a second. Within a second
 * of the last sample the stall is kept and sampled when that second is
 * over, never dropped. */
static void
on_psi_event(gpointer data)
{
  StApp *self = data;
  gint64 delay = st_psi_delay_us(now_us() - self->last_tick_us);

  g_debug("PSI memory trigger fired");
  self->psi_fired = TRUE;
  if (delay == 0) {
    g_clear_handle_id(&self->psi_tick_id, g_source_remove);
    on_tick(self);
    return;
  }
  if (self->psi_tick_id == 0) {
    self->psi_tick_id = g_timeout_add((guint)((delay + 999) / 1000), on_psi_deferred, self);
    g_source_set_name_by_id(self->psi_tick_id, "[smoothtask] sample after a memory stall");
  }
}

static gboolean
on_tick(gpointer data)
{
  StApp *self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) decisions = NULL;
  g_autoptr(GPtrArray) actions = NULL;
  gint64 now = now_us(); /* counts a suspend */

  /* Far more time than an interval since the last tick (a suspend, a
   * stopped process): a rate over that gap would be an average over hours.
   * Start again from a baseline. The engine sees the same gap in `now`. */
  if (st_gap_exceeded(self->last_tick_us, now, gap_base_s(self))) {
    g_message("%.0f s since the last sample: taking a new baseline",
              (gdouble)(now - self->last_tick_us) / G_USEC_PER_SEC);
    st_collector_reset(self->collector);
  }
  self->last_tick_us = now;
  if (self->next_snooze_end != 0 && g_get_real_time() / G_USEC_PER_SEC >= self->next_snooze_end)
    self->next_snooze_end =
        st_settings_prune_snoozes(self->settings, g_get_real_time() / G_USEC_PER_SEC);

  if (!st_collector_sample_system(self->collector, sample_ns(), self->snapshot, &error) ||
      (wants_processes(self, now) &&
       !st_collector_sample_processes(self->collector, self->snapshot, &error))) {
    g_warning("Sample failed: %s", error != NULL ? error->message : "unknown error");
    return G_SOURCE_CONTINUE;
  }
  self->n_samples++;
  self->psi_fired = FALSE;
  if (self->snapshot->processes_fresh)
    report_oom_kills(self);
  else
    st_oom_watch_forget_exited(self->oom, pid_alive);
  decisions = st_engine_evaluate(self->engine, self->snapshot, now);
  st_hooks_sample(self->hooks, self->snapshot, st_engine_get_n_active(self->engine));
  g_debug("Sample %" G_GUINT64_FORMAT " (%s): cpu %.1f%%, memory %.1f%%, %u processes, "
          "%u decisions",
          self->n_samples, self->snapshot->backend, self->snapshot->cpu_busy_percent,
          st_snapshot_mem_used_percent(self->snapshot), self->snapshot->processes->len,
          decisions->len);
  for (guint i = 0; i < decisions->len; i++) {
    const StDecision *d = g_ptr_array_index(decisions, i);
    g_auto(StNotificationText) text = {0};
    st_format_decision(d, &text);
    st_hooks_alert(self->hooks, d, &text);
  }
  actions = st_incidents_update(self->incidents, decisions, now);
  for (guint i = 0; i < actions->len; i++)
    st_presenter_present(self->presenter, g_ptr_array_index(actions, i));
  update_counting(self, now);
  st_calm_observe(&self->calm, st_snapshot_mem_used_percent(self->snapshot), now);
  schedule_next(self);
  self->last_period_s = self->period_s;
  return G_SOURCE_CONTINUE;
}

/* Samples every @period_s from now on; the timer is kept if it already has
 * that period. Called from on_tick() too: a timeout may remove itself while
 * it is dispatched. */
static void
arm_timer(StApp *self, guint period_s)
{
  if (self->timeout_id != 0 && self->period_s == period_s)
    return;
  if (self->timeout_id != 0 && (period_s > self->interval_s) != (self->period_s > self->interval_s))
    g_debug(period_s > self->interval_s ? "Calm: sampling every %u s" : "Sampling every %u s again",
            period_s);
  g_clear_handle_id(&self->timeout_id, g_source_remove);
  self->period_s = period_s;
  self->timeout_id = g_timeout_add_seconds(period_s, on_tick, self);
  g_source_set_name_by_id(self->timeout_id, "[smoothtask] sample");
}

/* After each sample: the next one interval away while anything is going
 * on, further while calm (st_calm_interval_s()). */
static void
schedule_next(StApp *self)
{
  arm_timer(self, st_calm_interval_s(&self->calm, is_busy(self, NULL)));
}

static void
apply_settings(StSettings *settings, gpointer data)
{
  StApp *self = data;
  StEngineConfig config;
  guint interval = st_settings_get_interval(settings);

  g_auto(GStrv) command = st_settings_get_alert_command(settings);
  gint64 now_wall = g_get_real_time() / G_USEC_PER_SEC;

  st_settings_get_config(settings, &config, now_wall, now_us());
  self->arming.mode = st_settings_get_counting(settings);
  self->arming.process_threshold =
      config.syscalls_enabled ? config.threshold[ST_METRIC_PROCESS_SYSCALLS] : 0;
  self->arming.system_threshold =
      !config.syscalls_enabled ? 0
      : config.threshold[ST_METRIC_APP_SYSCALLS] > 0 && config.threshold[ST_METRIC_SYSCALLS] > 0
          ? MIN(config.threshold[ST_METRIC_APP_SYSCALLS], config.threshold[ST_METRIC_SYSCALLS])
          : MAX(config.threshold[ST_METRIC_APP_SYSCALLS], config.threshold[ST_METRIC_SYSCALLS]);
  self->net_arming.threshold = config.threshold[ST_METRIC_PROCESS_NETWORK];
  if (self->snapshot != NULL) {
    update_counting(self, now_us());
  }
  /* Samples further apart than this did not watch in between. */
  config.max_gap_s = st_gap_max_s(interval);
  self->calm.sustain_s = config.sustain_s;
  self->calm.memory_critical = config.memory_enabled ? config.memory_critical : 0;
  st_engine_set_config(self->engine, &config);
  st_engine_config_clear(&config);
  st_hooks_set_command(self->hooks, command);
  self->next_snooze_end = st_settings_prune_snoozes(settings, now_wall);
  if (interval != self->interval_s) {
    g_message("Sampling every %u s", interval);
    self->interval_s = interval;
    self->calm.interval_s = interval;
  }
  /* A new interval or sustain applies now, not after the spacing in force. */
  if (self->timeout_id != 0)
    schedule_next(self);
}

static gboolean
on_signal(gpointer data)
{
  StApp *self = data;
  g_message("Exiting on signal");
  g_main_loop_quit(self->loop);
  return G_SOURCE_CONTINUE;
}

/* SIGUSR1/SIGUSR2: a status line in the log, and go on (their default
 * would kill the agent without withdrawing what it shows). */
static gboolean
on_status_signal(gpointer data)
{
  StApp *self = data;
  g_message("Status: %" G_GUINT64_FORMAT " samples with the %s backend, %u alerts, %u incidents",
            self->n_samples, st_collector_get_backend_name(self->collector),
            st_engine_get_n_active(self->engine), st_incidents_get_n(self->incidents));
  return G_SOURCE_CONTINUE;
}

static void
on_sigalrm(int signo)
{
  /* Nothing: a stray alarm must not kill the agent. A handler, not
   * SIG_IGN, so that programs the agent starts get the default back. */
}

/* The session bus went away (bus NULL) or came back (st-session.c). */
static void
on_bus_changed(GDBusConnection *bus, gpointer data)
{
  StApp *self = data;

  if (self->hooks == NULL) /* still starting: the hooks take the bus then */
    return;
  st_hooks_set_bus(self->hooks, bus);
  /* The notifications went with the old bus: what is still wrong is shown
   * again. */
  if (bus != NULL)
    st_incidents_reshow(self->incidents);
}

static void
on_name_lost(gpointer data)
{
  StApp *self = data;
  if (self->loop != NULL)
    g_main_loop_quit(self->loop);
}

StApp *
st_app_new(const StAppOptions *options, GError **error)
{
  g_autoptr(StApp) self = g_new0(StApp, 1);
  g_autoptr(GError) priv_error = NULL;
  g_autoptr(GError) lock_error = NULL;

  /* One agent per user, with or without a session bus (the bus name below
   * is one per session). */
  self->instance_lock = st_instance_lock("agent", &lock_error);
  if (self->instance_lock < 0 && g_error_matches(lock_error, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "SmoothTask is already running");
    return NULL;
  }
  if (self->instance_lock < 0)
    g_warning("%s: cannot make sure that only one agent runs", lock_error->message);

  /* BPF first, and the capabilities dropped, before anything starts a
   * thread (the bus and dconf do): a dropped capability stays in every
   * thread that existed before the drop. */
  self->collector = st_collector_new(options->backend);
  if (!st_collector_init(self->collector, error))
    return NULL;
  if (st_collector_get_fallback_reason(self->collector) != NULL)
    g_message("BPF collector unavailable, using /proc (system calls cannot be counted): %s",
              st_collector_get_fallback_reason(self->collector));
  /* Programs are loaded and attached: nothing below needs a capability. */
  if (!st_privileges_drop_except(st_collector_kept_privileges(), &priv_error))
    g_warning("Could not drop privileges: %s", priv_error->message);
#ifdef __GLIBC__
  /* Loading parsed the kernel's BTF (megabytes, now freed): give the heap
   * back rather than carry it for the whole session. */
  malloc_trim(0);
#endif
  self->session = st_session_new(APP_ID, on_bus_changed, on_name_lost, self);
  if (!st_session_start(self->session)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "SmoothTask is already running");
    return NULL;
  }

  self->settings = st_settings_new(error);
  if (self->settings == NULL)
    return NULL;

  self->arming.syscall_cost_ns = st_system_syscall_cost_ns();
  st_hook_switch_init(&self->syscall_hooks, self->collector, st_collector_set_syscall_counting,
                      "counting system calls",
                      "a process or the system is spending time in the kernel",
                      st_collector_can_count_syscalls(self->collector));
  st_hook_switch_init(&self->net_hooks, self->collector, st_collector_set_net_counting,
                      "counting network bytes per process", "the network is busy", FALSE);
  g_debug("Cheapest syscall: %.0f ns in the kernel at least", self->arming.syscall_cost_ns);
  self->engine = st_engine_new();
  self->incidents = st_incidents_new();
  self->oom = st_oom_watch_new((guint32)getuid());
  self->snapshot = st_snapshot_new();
  self->notifier = st_notifier_new(_("SmoothTask"), APP_ID);
  self->hooks = st_hooks_new(st_session_get_bus(self->session));
  self->presenter = st_presenter_new(self->notifier, self->settings, self->incidents);
  st_settings_set_changed_func(self->settings, apply_settings, self);
  apply_settings(self->settings, self);
  self->psi = st_psi_new(on_psi_event, self);
  self->loop = g_main_loop_new(NULL, FALSE);
  return g_steal_pointer(&self);
}

int
st_app_run(StApp *self)
{
  g_autoptr(GError) error = NULL;

  struct sigaction alrm = {0};

  /* SIGHUP: the terminal or session went away: a clean exit, like TERM. */
  self->signal_ids[0] = g_unix_signal_add(SIGINT, on_signal, self);
  self->signal_ids[1] = g_unix_signal_add(SIGTERM, on_signal, self);
  self->signal_ids[2] = g_unix_signal_add(SIGHUP, on_signal, self);
  self->signal_ids[3] = g_unix_signal_add(SIGUSR1, on_status_signal, self);
  self->signal_ids[4] = g_unix_signal_add(SIGUSR2, on_status_signal, self);
  alrm.sa_handler = on_sigalrm;
  sigaction(SIGALRM, &alrm, NULL);
  /* Not counting until something makes it worth it (or as configured). */
  if (self->arming.mode != ST_COUNTING_ALWAYS)
    st_hook_switch_start_off(&self->syscall_hooks);
  /* The first sample is the baseline every rate is measured from. */
  if (!st_collector_sample(self->collector, sample_ns(), self->snapshot, &error))
    g_warning("Baseline sample failed: %s", error->message);
  g_message("SmoothTask %s watching with the %s backend, every %u s", PACKAGE_VERSION,
            st_collector_get_backend_name(self->collector), self->interval_s);
  arm_timer(self, self->interval_s);
  g_main_loop_run(self->loop);
  /* Nothing stale on screen after the agent is gone. */
  st_notifier_close_all(self->notifier, NOTIFIER_EXIT_TIMEOUT_MS);
  return 0;
}

void
st_app_free(StApp *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id(&self->timeout_id, g_source_remove);
  st_hook_switch_clear(&self->syscall_hooks);
  st_hook_switch_clear(&self->net_hooks);
  g_clear_handle_id(&self->psi_tick_id, g_source_remove);
  g_clear_pointer(&self->psi, st_psi_free);
  for (guint i = 0; i < G_N_ELEMENTS(self->signal_ids); i++)
    g_clear_handle_id(&self->signal_ids[i], g_source_remove);
  g_clear_pointer(&self->presenter, st_presenter_free);
  g_clear_pointer(&self->notifier, st_notifier_free);
  g_clear_pointer(&self->hooks, st_hooks_free);
  g_clear_pointer(&self->engine, st_engine_free);
  g_clear_pointer(&self->oom, st_oom_watch_free);
  if (self->instance_lock > 0) /* set first thing in st_app_new */
    close(self->instance_lock);
  g_clear_pointer(&self->incidents, st_incidents_free);
  g_clear_pointer(&self->collector, st_collector_free);
  g_clear_pointer(&self->settings, st_settings_free);
  g_clear_pointer(&self->snapshot, st_snapshot_free);
  g_clear_pointer(&self->loop, g_main_loop_unref);
  g_clear_pointer(&self->session, st_session_free);
  g_free(self);
}
