/* st-commands.c: the one-shot commands, each a short run of the agent's
 * own rooms: --test-notification (the real formatter and notifier) and
 * --dump (two samples of the collector). */
#define G_LOG_DOMAIN "smoothtask"

#include "config.h"

#include "st-commands.h"
#include "st-dump.h"
#include "st-format.h"
#include "st-notifier.h"
#include "st-privileges.h"

#include <unistd.h>
#include <glib/gi18n.h>

static gboolean
sleep_done(gpointer loop)
{
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

typedef struct {
  GMainLoop *loop;
  gboolean accepted;
} TestSend;

static void
on_test_sent(gboolean accepted, gpointer data)
{
  TestSend *t = data;
  t->accepted = accepted;
  g_main_loop_quit(t->loop);
}

/* One sample alert through the real formatter and notifier. */
int
st_command_test_notification(void)
{
  g_autoptr(StNotifier) notifier = st_notifier_new(_("SmoothTask"), APP_ID);
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_auto(StNotificationText) text = {0};
  g_autofree char *summary = NULL;
  StDecision d = {0};
  TestSend t = {loop, FALSE};

  d.kind = ST_DECISION_RAISE;
  d.metric = ST_METRIC_PROCESS_CPU;
  d.subject = (char *)"test";
  d.pid = (gint32)getpid();
  d.name = (char *)"smoothtask";
  g_strlcpy(d.comm, "smoothtask", sizeof(d.comm));
  d.value = 190;
  d.threshold = 90;
  d.over_s = 30;
  d.others = g_array_new(FALSE, TRUE, sizeof(StOffender));
  st_format_decision(&d, &text);
  g_array_unref(d.others);
  /* Translators: prefix of the test notification's title. */
  summary = g_strdup_printf(_("Test: %s"), text.summary);
  g_free(text.summary);
  text.summary = g_steal_pointer(&summary);
  st_notifier_show(notifier, "test/test", &text, NULL, TRUE, on_test_sent, &t);
  g_timeout_add_seconds(15, sleep_done, loop);
  g_main_loop_run(loop);
  if (!t.accepted) {
    g_printerr(_("No notification server accepted the test notification\n"));
    return 1;
  }
  g_print(_("The notification server accepted the test notification\n"));
  return 0;
}

int
st_command_dump(StBackendKind kind, gdouble interval_s, gboolean json, guint top)
{
  g_autoptr(StCollector) collector = st_collector_new(kind);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_autofree char *text = NULL;

  if (!st_collector_init(collector, &error)) {
    g_printerr(_("Cannot start the collector: %s\n"), error->message);
    return 1;
  }
  if (st_collector_get_fallback_reason(collector) != NULL)
    g_printerr(_("Using /proc: %s\n"), st_collector_get_fallback_reason(collector));
  /* One interval: the hooks cost only while it lasts. */
  (void)st_collector_set_net_counting(collector, TRUE, NULL);
  (void)st_privileges_drop_except(st_collector_kept_privileges(), NULL);
  if (!st_collector_sample(collector, (guint64)g_get_monotonic_time() * 1000, snap, &error))
    goto fail;
  g_timeout_add((guint)(interval_s * 1000), sleep_done, loop);
  g_main_loop_run(loop);
  if (!st_collector_sample(collector, (guint64)g_get_monotonic_time() * 1000, snap, &error))
    goto fail;
  text = json ? st_dump_json(snap, top) : st_dump_table(snap, top);
  g_print("%s", text);
  return 0;

fail:
  g_printerr(_("Sampling failed: %s\n"), error->message);
  return 1;
}
