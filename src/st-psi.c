/* st-psi.c: the memory-stall (PSI) trigger.
 *
 * As low-memory-monitor does: /proc/pressure/memory opened O_RDWR|O_NONBLOCK,
 * one trigger written, and the fd watched for POLLPRI in the main loop. The
 * kernel reports POLLIN on this fd at all times, so only POLLPRI and POLLERR
 * are asked for (POLLHUP always comes); after POLLERR or POLLHUP the source
 * goes and its destroy notify closes the fd, so a closed trigger never spins.
 * It must never decide anything about alerts: it only calls back.
 */
#define G_LOG_DOMAIN "smoothtask-psi"

#include "config.h"

#include "st-psi.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#define PSI_MEMORY_PATH "/proc/pressure/memory"

struct _StPsi {
  int fd; /* -1 once closed */
  guint source_id;
  StPsiFunc func;
  gpointer data;
};

static gboolean
on_fd_event(gint fd, GIOCondition condition, gpointer data)
{
  StPsi *self = data;

  if (condition & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
    g_message("The PSI memory trigger was closed by the kernel; memory pressure is still "
              "sampled every interval");
    self->source_id = 0;
    return G_SOURCE_REMOVE;
  }
  if (condition & G_IO_PRI)
    self->func(self->data);
  return G_SOURCE_CONTINUE;
}

/* The source's destroy notify: whoever removes it, the fd goes with it. */
static void
on_source_destroyed(gpointer data)
{
  StPsi *self = data;

  if (self->fd >= 0)
    close(self->fd);
  self->fd = -1;
  self->source_id = 0;
}

StPsi *
st_psi_new_for_fd(int fd, StPsiFunc func, gpointer data)
{
  StPsi *self;

  g_return_val_if_fail(fd >= 0, NULL);
  g_return_val_if_fail(func != NULL, NULL);

  self = g_new0(StPsi, 1);
  self->fd = fd;
  self->func = func;
  self->data = data;
  self->source_id = g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, G_IO_PRI | G_IO_ERR, on_fd_event,
                                       self, on_source_destroyed);
  g_source_set_name_by_id(self->source_id, "[smoothtask] PSI memory trigger");
  return self;
}

StPsi *
st_psi_new(StPsiFunc func, gpointer data)
{
  /* 150 ms of stall within 1 s; unprivileged users may only use windows
   * that are a multiple of 2 s (Linux 6.5+), so try that second. */
  static const char *const triggers[] = {"some 150000 1000000", "some 300000 2000000"};

  for (guint i = 0; i < G_N_ELEMENTS(triggers); i++) {
    int fd = open(PSI_MEMORY_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      g_debug("No PSI trigger: %s: %s", PSI_MEMORY_PATH, g_strerror(errno));
      return NULL;
    }
    if (write(fd, triggers[i], strlen(triggers[i]) + 1) > 0) {
      g_debug("PSI memory trigger armed: %s", triggers[i]);
      return st_psi_new_for_fd(fd, func, data);
    }
    g_debug("PSI trigger \"%s\" refused: %s", triggers[i], g_strerror(errno));
    close(fd);
  }
  return NULL;
}

gboolean
st_psi_is_armed(StPsi *self)
{
  g_return_val_if_fail(self != NULL, FALSE);
  return self->source_id != 0;
}

void
st_psi_free(StPsi *self)
{
  if (self == NULL)
    return;
  /* Removing the source closes the fd (on_source_destroyed). */
  g_clear_handle_id(&self->source_id, g_source_remove);
  if (self->fd >= 0)
    close(self->fd);
  g_free(self);
}

gint64
st_psi_delay_us(gint64 since_last_sample_us)
{
  if (since_last_sample_us < 0 || since_last_sample_us >= ST_PSI_MIN_SPACING_US)
    return 0; /* a clock that went back says nothing of spacing */
  return ST_PSI_MIN_SPACING_US - since_last_sample_us;
}
