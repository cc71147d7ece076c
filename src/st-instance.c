/* st-instance.c: per-user locks (see the header). */
#define G_LOG_DOMAIN "smoothtask-instance"
#include "st-instance.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gio.h>

int
st_instance_lock(const char *what, GError **error)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int len;

  if (fd < 0) {
    int err = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "Cannot make the %s lock: %s", what,
                g_strerror(err));
    return -1;
  }
  /* sun_path[0] = '\0': the abstract namespace. */
  len = g_snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "org.smoothtask.Agent/%s/%u", what,
                   (guint)getuid());
  if (bind(fd, (struct sockaddr *)&addr,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len)) < 0) {
    int err = errno;
    close(fd);
    if (err == EADDRINUSE)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                  "another process of this user holds the %s lock", what);
    else
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "Cannot take the %s lock: %s",
                  what, g_strerror(err));
    return -1;
  }
  return fd;
}
