/* collector-or-skip.h: for the tests that need the real collector. */
#pragma once

#include "st-collector.h"

#include <string.h>
#include <unistd.h>

/* Opens a collector of the kind, or skips saying why. As root on a kernel
 * with BTF nothing excuses a refusal (a verifier rejection of our object is
 * a bug): only a lack of privilege or of a kernel feature may skip. */
static inline StCollector *
collector_or_skip(StBackendKind kind)
{
  g_autoptr(StCollector) c = st_collector_new(kind);
  g_autoptr(GError) error = NULL;

  if (!st_collector_init(c, &error)) {
    g_assert_true(kind == ST_BACKEND_BPF);
    g_assert_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED);
    if (geteuid() == 0 && g_file_test("/sys/kernel/btf/vmlinux", G_FILE_TEST_EXISTS))
      g_error("BPF backend refused as root: %s", error->message);
    g_test_skip_printf("BPF backend unavailable here (%s)", error->message);
    return NULL;
  }
  g_assert_cmpstr(st_collector_get_backend_name(c), ==, kind == ST_BACKEND_BPF ? "bpf" : "proc");
  return g_steal_pointer(&c);
}

/* BPF links of this process attached to tracing hooks (not the iterator):
 * what the on-demand switches attach and detach. */
static inline guint
st_test_count_hook_links(void)
{
  g_autoptr(GDir) dir = g_dir_open("/proc/self/fdinfo", 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename("/proc/self/fdinfo", name, NULL);
    g_autofree char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL) && strstr(text, "link_type:") != NULL &&
        strstr(text, "link_type:\titer") == NULL)
      n++;
  }
  return n;
}
