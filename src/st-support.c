/* st-support.c: the support check. Reuses the real backends: a check that
 * loaded something else than the agent loads would prove nothing. */
#define G_LOG_DOMAIN "smoothtask-support"

#include "config.h"

#include "st-support.h"
#include "st-backend.h"
#include "st-privileges.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <sys/utsname.h>
#ifdef HAVE_LIBNOTIFY
#include <libnotify/notify.h>
#endif
#include <unistd.h>

#ifdef HAVE_BPF
#include <bpf/libbpf.h>
#endif

static const char *
yes_no(gboolean v)
{
  return v ? _("yes") : _("no");
}

static void
row(const char *label, const char *value)
{
  /* Labels are translated; pad by characters, not bytes. */
  glong width = g_utf8_strlen(label, -1);
  g_print("  %s:%*s %s\n", label, (int)MAX(1, 22 - width), "", value);
}

#ifdef HAVE_BPF
static int
quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
  return 0;
}

static const char *
probe_prog(enum bpf_prog_type type)
{
  int r = libbpf_probe_bpf_prog_type(type, NULL);
  return r > 0 ? _("yes") : r == 0 ? _("no") : _("cannot tell");
}

static const char *
probe_map(enum bpf_map_type type)
{
  int r = libbpf_probe_bpf_map_type(type, NULL);
  return r > 0 ? _("yes") : r == 0 ? _("no") : _("cannot tell");
}
#endif

/* Who would show our notifications. A blocking query is fine in --check. */
static void
report_notification_server(void)
{
  g_autofree char *text = NULL;
#ifdef HAVE_LIBNOTIFY
  g_autofree char *name = NULL, *vendor = NULL, *version = NULL;
  gboolean actions = FALSE;

  if (notify_init("SmoothTask") && notify_get_server_info(&name, &vendor, &version, NULL)) {
    GList *caps = notify_get_server_caps();
    actions = g_list_find_custom(caps, "actions", (GCompareFunc)g_strcmp0) != NULL;
    g_list_free_full(caps, g_free);
    text = g_strdup_printf(_("%s %s (%s), buttons %s"), name, version, vendor, yes_no(actions));
  }
  notify_uninit();
#else
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  const char *name, *vendor, *version;

  if (bus != NULL)
    reply = g_dbus_connection_call_sync(
        bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
        "org.freedesktop.Notifications", "GetServerInformation", NULL, G_VARIANT_TYPE("(ssss)"),
        G_DBUS_CALL_FLAGS_NONE, 3000, NULL, NULL);
  if (reply != NULL) {
    g_variant_get(reply, "(&s&s&s&s)", &name, &vendor, &version, NULL);
    text = g_strdup_printf("%s %s (%s)", name, version, vendor);
  }
#endif
  row(_("Notification server"),
      text != NULL ? text : _("none found: alerts go to the log (journal) only"));
}

gboolean
st_support_check(void)
{
  struct utsname uts;
  g_autoptr(GError) bpf_error = NULL;
  g_autoptr(GError) proc_error = NULL;
  StBackend *bpf, *proc;
  gboolean bpf_ok, proc_ok;
  g_autofree char *kernel = NULL, *caps = NULL, *btf = NULL;

  g_print(_("SmoothTask %s support check\n"), PACKAGE_VERSION);
  if (uname(&uts) == 0)
    kernel = g_strdup_printf("%s (%s)", uts.release, uts.machine);
  row(_("Kernel"), kernel != NULL ? kernel : _("unknown"));
  btf = g_file_test("/sys/kernel/btf/vmlinux", G_FILE_TEST_EXISTS)
            ? g_strdup_printf(_("yes (%s)"), "/sys/kernel/btf/vmlinux")
            : g_strdup(_("no: the kernel lacks CONFIG_DEBUG_INFO_BTF"));
  row(_("BTF"), btf);
  caps = g_strdup_printf(_("uid %u; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s"),
                         (guint)geteuid(), yes_no(st_privileges_has(CAP_BPF_BIT)),
                         yes_no(st_privileges_has(CAP_PERFMON_BIT)),
                         yes_no(st_privileges_has(CAP_SYS_ADMIN_BIT)));
  row(_("Privileges"), caps);
  {
    g_autofree char *loader = st_backend_bpf_describe_handoff();
    row(_("smoothtask-loader"), loader != NULL ? loader : _("not used"));
  }

  /* The real programs, loaded and attached as the agent would. */
  bpf = st_backend_bpf_new(&bpf_error);
  bpf_ok = bpf != NULL;
  if (bpf_ok)
    bpf->free(bpf);

#ifdef HAVE_BPF
  {
    libbpf_print_fn_t old = libbpf_set_print(quiet_print);
    /* libbpf 1.1 cannot probe tracing programs (tp_btf, iter) without a
     * target: the answer for them is whether ours loaded. */
    g_autofree char *progs = g_strdup_printf(_("tracing %s, raw tracepoint %s"), yes_no(bpf_ok),
                                             probe_prog(BPF_PROG_TYPE_RAW_TRACEPOINT));
    g_autofree char *maps =
        g_strdup_printf(_("task storage %s, per-CPU array %s"),
                        probe_map(BPF_MAP_TYPE_TASK_STORAGE), probe_map(BPF_MAP_TYPE_PERCPU_ARRAY));
    libbpf_set_print(old);
    row(_("BPF program types"), progs);
    row(_("BPF map types"), maps);
  }
#endif

  if (bpf_ok) {
    row(_("BPF collector"), _("works (programs loaded and attached)"));
  } else {
    row(_("BPF collector"), bpf_error->message);
  }
  proc = st_backend_proc_new("/proc", &proc_error);
  proc_ok = proc != NULL;
  if (proc_ok) {
    row(_("/proc collector"), _("works (no system call counts)"));
    proc->free(proc);
  } else {
    row(_("/proc collector"), proc_error->message);
  }
  row(_("Backend for auto"), bpf_ok ? "bpf" : proc_ok ? "proc" : _("none"));
  report_notification_server();
  return bpf_ok || proc_ok;
}
