/* notifier-driver: the notifier alone, driven from stdin, for notifier-test.py.
 *
 * Commands, one a line (words separated by single spaces; the body is the
 * rest of the line):
 *   show KEY SUMMARY [BODY]   critical, with actions "default" and "snooze"
 *   showt KEY SUMMARY [BODY]  normal, transient, no actions
 *   close KEY | forget KEY | closeall MS | server | sleep MS | quit
 * Events on stdout: "ready", "tick N MS" every 100 ms from a main-loop timeout
 * (MS: monotonic milliseconds, so that a blocked loop shows as a gap),
 * "sent KEY 0|1", "action KEY ID", "closed KEY REASON", "closeall-done MS",
 * "server 0|1". It never touches the bus itself: everything goes through the
 * notifier.
 */
#include "st-notifier.h"

#include <stdio.h>
#include <string.h>
#include <gio/gunixinputstream.h>

typedef struct {
  GMainLoop *loop;
  StNotifier *notifier;
  GDataInputStream *in;
  guint ticks;
} Driver;

static void read_next(Driver *d);

static void emit(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
emit(const char *format, ...)
{
  va_list args;
  va_start(args, format);
  vprintf(format, args);
  va_end(args);
  putchar('\n');
  fflush(stdout);
}

static gint64
now_ms(void)
{
  return g_get_monotonic_time() / 1000;
}

static gboolean
on_tick(gpointer data)
{
  Driver *d = data;
  emit("tick %u %" G_GINT64_FORMAT, ++d->ticks, now_ms());
  return G_SOURCE_CONTINUE;
}

static void
on_sent(gboolean accepted, gpointer data)
{
  g_autofree char *key = data;
  emit("sent %s %d", key, accepted ? 1 : 0);
}

static void
on_action(const char *key, const char *action, gpointer data)
{
  emit("action %s %s", key, action);
}

static void
on_closed(const char *key, guint reason, gpointer data)
{
  emit("closed %s %u", key, reason);
}

static void
show(Driver *d, char **words, gboolean transient)
{
  static const char *const actions[] = {"default", "Open", "snooze", "Snooze for 1 hour", NULL};
  g_auto(StNotificationText) text = {0};
  const char *key = words[1];

  text.summary = g_strdup(words[2]);
  text.body = g_strdup(words[3] != NULL ? words[3] : "");
  text.plain = g_strdup(text.body);
  text.urgency = transient ? 1 : 2;
  text.category = "device";
  text.icon = g_strdup("dialog-warning");
  st_notifier_show(d->notifier, key, &text, transient ? NULL : actions, transient, on_sent,
                   g_strdup(key));
}

static gboolean
resume(gpointer data)
{
  read_next(data);
  return G_SOURCE_REMOVE;
}

/* Returns whether to read the next line now. */
static gboolean
run_command(Driver *d, const char *line)
{
  g_auto(GStrv) words = g_strsplit(line, " ", 4);
  guint n = g_strv_length(words);
  const char *cmd = n > 0 ? words[0] : "";

  if ((g_str_equal(cmd, "show") || g_str_equal(cmd, "showt")) && n >= 3) {
    show(d, words, g_str_equal(cmd, "showt"));
  } else if (g_str_equal(cmd, "close") && n >= 2) {
    st_notifier_close(d->notifier, words[1]);
  } else if (g_str_equal(cmd, "forget") && n >= 2) {
    st_notifier_forget(d->notifier, words[1]);
  } else if (g_str_equal(cmd, "closeall")) {
    gint64 start = now_ms();
    st_notifier_close_all(d->notifier, n >= 2 ? (guint)g_ascii_strtoull(words[1], NULL, 10) : 2000);
    emit("closeall-done %" G_GINT64_FORMAT, now_ms() - start);
  } else if (g_str_equal(cmd, "server")) {
    emit("server %d", st_notifier_has_server(d->notifier) ? 1 : 0);
  } else if (g_str_equal(cmd, "sleep") && n >= 2) {
    g_timeout_add((guint)g_ascii_strtoull(words[1], NULL, 10), resume, d);
    return FALSE;
  } else if (g_str_equal(cmd, "quit")) {
    g_main_loop_quit(d->loop);
    return FALSE;
  } else if (cmd[0] != '\0') {
    g_printerr("notifier-driver: unknown command: %s\n", line);
  }
  return TRUE;
}

static void
on_line(GObject *source, GAsyncResult *res, gpointer data)
{
  Driver *d = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8(d->in, res, NULL, &error);

  if (line == NULL) {
    if (error != NULL)
      g_printerr("notifier-driver: %s\n", error->message);
    g_main_loop_quit(d->loop);
    return;
  }
  if (run_command(d, line))
    read_next(d);
}

static void
read_next(Driver *d)
{
  g_data_input_stream_read_line_async(d->in, G_PRIORITY_DEFAULT, NULL, on_line, d);
}

int
main(int argc, char **argv)
{
  g_autoptr(GInputStream) stdin_stream = g_unix_input_stream_new(0, FALSE);
  Driver d = {0};

  /* stdout carries events only. */
  g_log_writer_default_set_use_stderr(TRUE);
  d.loop = g_main_loop_new(NULL, FALSE);
  d.notifier = st_notifier_new("SmoothTask", "org.smoothtask.Agent");
  st_notifier_set_action_func(d.notifier, on_action, &d);
  st_notifier_set_closed_func(d.notifier, on_closed, &d);
  d.in = g_data_input_stream_new(stdin_stream);
  g_timeout_add(100, on_tick, &d);
  emit("ready");
  read_next(&d);
  g_main_loop_run(d.loop);
  st_notifier_free(d.notifier);
  g_object_unref(d.in);
  g_main_loop_unref(d.loop);
  return 0;
}
