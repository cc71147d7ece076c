/* st-privileges.c: capget/capset without libcap (one syscall each). */
#define G_LOG_DOMAIN "smoothtask-privileges"

#include "st-privileges.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <gio/gio.h>

guint64
st_privileges_effective(void)
{
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

  if (syscall(SYS_capget, &header, data) != 0)
    return 0;
  return (guint64)data[0].effective | ((guint64)data[1].effective << 32);
}

gboolean
st_privileges_has(guint cap)
{
  return cap < 64 && (st_privileges_effective() & (G_GUINT64_CONSTANT(1) << cap)) != 0;
}

gboolean
st_privileges_drop(GError **error)
{
  return st_privileges_drop_except(0, error);
}

gboolean
st_privileges_drop_except(guint64 keep, GError **error)
{
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

  data[0].effective = data[0].permitted = (guint32)keep;
  data[1].effective = data[1].permitted = (guint32)(keep >> 32);
  /* Ambient capabilities would come back on exec; clear them first (needs no
   * privilege, and fails harmlessly on kernels before 4.3). No
   * no_new_privs: clearing the permitted set cannot be undone, and the flag
   * would only stop what the agent starts (the system monitor, an
   * alert-command) from gaining privileges of its own: pkexec in them must
   * work. capset() changes the calling thread only: the caller drops before
   * any other thread exists. */
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (syscall(SYS_capset, &header, data) != 0) {
    int saved = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "capset: %s", g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}
