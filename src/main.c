/* main.c: command line. The agent, --check and --dump all reuse the same
 * rooms; the data path of the agent is in st-app.c:
 * tick -> collector -> snapshot -> engine -> decisions -> notifier. */
#define G_LOG_DOMAIN "smoothtask"

#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <gio/gio.h>

#include "st-app.h"
#include "st-collector.h"
#include "st-commands.h"
#include "st-privileges.h"
#include "st-support.h"

typedef struct {
  gboolean test_notification;
  gboolean version;
  gboolean verbose;
  gboolean debug;
  gboolean check;
  gboolean dump;
  gboolean json;
  gdouble interval;
  gint top;
  char *backend;
} Options;

/* Whether a log domain is one of ours ("smoothtask", "smoothtask-<room>"). */
static gboolean
own_domain(const GLogField *fields, gsize n_fields)
{
  for (gsize i = 0; i < n_fields; i++) {
    if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
      return fields[i].length < 0 && fields[i].value != NULL &&
             g_str_has_prefix(fields[i].value, "smoothtask");
  }
  return FALSE;
}

/* --verbose: debug lines of SmoothTask's own domains only; libbpf's
 * (domain "libbpf", ~190 lines a start), GLib's and dconf's are for --debug.
 * Everything else goes on to GLib's default writer (journald or stderr). */
static GLogWriterOutput
verbose_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0 && !own_domain(fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default(level, fields, n_fields, data);
}

static void
setup_logging(const Options *o)
{
  if (o->debug) {
    g_log_set_debug_enabled(TRUE);
  } else if (o->verbose) {
    g_log_set_writer_func(verbose_writer, NULL, NULL);
    g_log_set_debug_enabled(TRUE);
  }
}

/* Through smoothtask-loader when the kernel programs need capabilities this
 * process does not have: an installed agent (PREFIX/bin/smoothtask, not a
 * build tree's) whose tree has the loader with capabilities, unless the
 * loader already ran or the user chose /proc. */
static void
maybe_exec_loader(char **argv, StBackendKind kind)
{
  g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
  g_autofree char *loader = NULL;
  const char *tail = "/" BINDIR_REL "/smoothtask";

  if (kind == ST_BACKEND_PROC || g_getenv("SMOOTHTASK_BPF") != NULL || geteuid() == 0 ||
      st_privileges_has(CAP_BPF_BIT) || self == NULL || !g_str_has_suffix(self, tail))
    return;
  self[strlen(self) - strlen(tail)] = '\0';
  loader = g_strconcat(self, "/" LIBEXECDIR_REL "/smoothtask-loader", NULL);
  if (getxattr(loader, "security.capability", NULL, 0) <= 0)
    return; /* not installed with capabilities: /proc, saying why */
  execv(loader, argv);
  g_warning("Cannot run %s: %s", loader, g_strerror(errno));
}

static void
setup_gettext(void)
{
  setlocale(LC_ALL, "");
  /* Run from the build tree (./dev.sh run, tests), the catalogues are in
   * build/po; never honoured for a privileged (file-capability) start. */
  if (g_getenv("SMOOTHTASK_LOCALEDIR") != NULL && getauxval(AT_SECURE) == 0)
    bindtextdomain(GETTEXT_PACKAGE, g_getenv("SMOOTHTASK_LOCALEDIR"));
  else
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
  textdomain(GETTEXT_PACKAGE);
}

int
main(int argc, char **argv)
{
  Options o = {.interval = 1.0, .top = 20};
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(StApp) app = NULL;
  StAppOptions app_options = {0};
  StBackendKind kind = ST_BACKEND_AUTO;
  GOptionEntry entries[] = {
      {"test-notification", 0, 0, G_OPTION_ARG_NONE, &o.test_notification,
       N_("Send one sample alert and exit; the status says whether it was accepted"), NULL},
      {"version", 'V', 0, G_OPTION_ARG_NONE, &o.version, N_("Print the version and exit"), NULL},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose,
       N_("Log SmoothTask's debug messages, one per sample"), NULL},
      {"debug", 0, 0, G_OPTION_ARG_NONE, &o.debug,
       N_("Log every debug message, also libbpf's (the verifier's log) and GLib's"), NULL},
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &o.backend,
       N_("Collector: auto (BPF, else /proc), bpf or proc"), N_("BACKEND")},
      {"check", 0, 0, G_OPTION_ARG_NONE, &o.check,
       N_("Report what this machine allows and which backend would be used"), NULL},
      {"dump", 0, 0, G_OPTION_ARG_NONE, &o.dump, N_("Print one sample and exit"), NULL},
      {"json", 0, 0, G_OPTION_ARG_NONE, &o.json, N_("With --dump: print JSON"), NULL},
      {"interval", 0, 0, G_OPTION_ARG_DOUBLE, &o.interval,
       N_("With --dump: seconds to measure over (default 1)"), N_("SECONDS")},
      {"top", 0, 0, G_OPTION_ARG_INT, &o.top,
       N_("With --dump: show this many processes, 0 for all (default 20)"), N_("N")},
      {NULL},
  };

  g_auto(GStrv) original_argv = g_strdupv(argv);

  setup_gettext();

  ctx = g_option_context_new(NULL);
  g_option_context_set_summary(
      ctx, _("Watches CPU, memory and system calls and tells you, with a desktop notification, "
             "which program is overloading your computer."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    g_printerr("%s\n", error->message);
    return 2;
  }
  if (o.version) {
    g_print("smoothtask %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (o.backend != NULL && !st_backend_kind_from_string(o.backend, &kind)) {
    g_printerr(_("Unknown backend “%s”: use auto, bpf or proc\n"), o.backend);
    return 2;
  }
  g_free(o.backend);
  if (o.check || o.dump || !o.test_notification)
    maybe_exec_loader(original_argv, kind);
  /* Before any thread: it changes the environment. */
  st_collector_claim_handoff();
  setup_logging(&o);
  if (o.check)
    return st_support_check() ? 0 : 1;
  if (o.test_notification)
    return st_command_test_notification();
  if (o.dump) {
    if (!(o.interval >= 0.1 && o.interval <= 3600) || o.top < 0) {
      g_printerr(_("--interval must be between 0.1 and 3600 seconds, --top at least 0\n"));
      return 2;
    }
    return st_command_dump(kind, o.interval, o.json, (guint)o.top);
  }

  app_options.backend = kind;
  app = st_app_new(&app_options, &error);
  if (app == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
    g_message("%s", error->message);
    return 0;
  }
  if (app == NULL) {
    g_printerr(_("SmoothTask cannot start: %s\n"), error->message);
    return 1;
  }
  return st_app_run(app);
}
