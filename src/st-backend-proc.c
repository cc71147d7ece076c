/* st-backend-proc.c: the /proc backend.
 *
 * Opens /proc/<pid>/stat and statm for every process on every sample: simple
 * and available everywhere, but about 13 µs per process, so the BPF backend is
 * preferred. It cannot count syscalls and says so (has_syscalls = FALSE).
 * Processes that vanish between readdir() and open() are skipped silently:
 * that is the normal life of a process table, not an error.
 */
#define G_LOG_DOMAIN "smoothtask-backend-proc"

#include "st-backend.h"
#include "st-procfs-parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib/gstdio.h>

typedef struct {
  StBackend parent;
  char *root;
  guint64 tick_ns;
  guint64 page_size;
  uid_t uid;
} StBackendProc;

/* Reads fd to its end, or until buf (of *size, grown when grow is set) is
 * full; NUL-terminates. -1 with errno on error. Closes fd unless keep. */
static gssize
read_fd(int fd, char **buf, gsize *size, GByteArray *grow, gboolean keep)
{
  gsize total = 0;

  if (fd < 0)
    return -1;
  for (;;) {
    gssize n;
    /* /proc files report no size: grow until read() says the end. */
    if (grow != NULL && *size < total + 4096 + 1) {
      g_byte_array_set_size(grow, MAX(total + 4096 + 1, grow->len * 2));
      *buf = (char *)grow->data;
      *size = grow->len;
    }
    if (total >= *size - 1)
      break;
    n = read(fd, *buf + total, *size - 1 - total);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      if (!keep)
        close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0)
      break;
    total += (gsize)n;
  }
  if (!keep)
    close(fd);
  (*buf)[total] = '\0';
  return (gssize)total;
}

static gssize
read_all(int fd, char **buf, gsize *size, GByteArray *grow)
{
  return read_fd(fd, buf, size, grow, FALSE);
}

gssize
st_reread_file(int fd, GByteArray *buf)
{
  char *data = (char *)buf->data;
  gsize size = buf->len;

  /* A /proc file read again from its start shows the figures of now: no
   * path lookup, no open, no close. */
  if (lseek(fd, 0, SEEK_SET) < 0)
    return -1;
  return read_fd(fd, &data, &size, buf, TRUE);
}

gssize
st_read_small_file(int dirfd, const char *path, char *buf, gsize size)
{
  return read_all(openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY), &buf, &size, NULL);
}

gssize
st_read_whole_file(int dirfd, const char *path, GByteArray *buf)
{
  char *data = (char *)buf->data;
  gsize size = buf->len;
  return read_all(openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY), &data, &size, buf);
}

static gboolean
read_one(StBackendProc *self, int procfd, const char *name, guint64 boot_ns, StRawProcess *out)
{
  char path[64], buf[1024];
  StPidStat st;
  struct stat sb;
  guint64 resident;
  gssize n;

  g_snprintf(path, sizeof(path), "%s/stat", name);
  n = st_read_small_file(procfd, path, buf, sizeof(buf));
  if (n < 0 || !st_parse_pid_stat(buf, (gsize)n, &st, NULL))
    return FALSE;
  g_snprintf(path, sizeof(path), "%s/statm", name);
  n = st_read_small_file(procfd, path, buf, sizeof(buf));
  if (n < 0 || !st_parse_statm(buf, (gsize)n, &resident, NULL))
    return FALSE;
  /* The directory's owner is the process's effective uid, as ps shows it. */
  if (fstatat(procfd, name, &sb, 0) < 0)
    return FALSE;

  memset(out, 0, sizeof(*out));
  out->pid = st.pid;
  out->ppid = st.ppid;
  out->uid = sb.st_uid;
  out->start_time = st.start_ticks;
  memcpy(out->comm, st.comm, sizeof(out->comm));
  out->n_threads = st.num_threads > 0 ? (guint)MIN(st.num_threads, G_MAXUINT) : 0;
  out->read_ns = (guint64)g_get_monotonic_time() * 1000;
  if (boot_ns != 0 && boot_ns > st.start_ticks * self->tick_ns)
    out->age_ns = boot_ns - st.start_ticks * self->tick_ns;
  out->cpu_time_ns = (st.utime_ticks + st.stime_ticks) * self->tick_ns;
  out->cpu_children_ns = (st.cutime_ticks + st.cstime_ticks) * self->tick_ns;
  out->stime_ns = st.stime_ticks * self->tick_ns;
  out->rss_bytes = resident * self->page_size;
  out->exited = st.state == 'Z' || st.state == 'X';
  /* Only one's own processes' I/O is readable (root: all); not trying the
   * others saves an open() that would fail each. */
  if (self->uid == 0 || sb.st_uid == self->uid) {
    g_snprintf(path, sizeof(path), "%s/io", name);
    n = st_read_small_file(procfd, path, buf, sizeof(buf));
    out->has_io =
        n > 0 && st_parse_pid_io(buf, (gsize)n, &out->io_read_bytes, &out->io_write_bytes, NULL);
  }
  return TRUE;
}

static gboolean
proc_read(StBackend *backend, StRawSample *out, GError **error)
{
  StBackendProc *self = (StBackendProc *)backend;
  DIR *dir;
  struct dirent *de;
  struct timespec now;
  guint64 boot_ns = 0;
  int procfd;

  /* Start times are in ticks since boot, suspends included, as seen from
   * the reader's time namespace: CLOCK_BOOTTIME's, read once a pass (ages
   * are in ticks anyway). A process that lived through a short suspend is
   * charged over a little more than its run. */
  if (clock_gettime(CLOCK_BOOTTIME, &now) == 0)
    boot_ns = (guint64)now.tv_sec * G_GUINT64_CONSTANT(1000000000) + (guint64)now.tv_nsec;
  dir = opendir(self->root);
  if (dir == NULL) {
    int saved = errno;
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_FAILED, "Cannot open %s: %s",
                self->root, g_strerror(saved));
    return FALSE;
  }
  procfd = dirfd(dir);
  out->has_syscalls = FALSE;
  out->syscalls_total = 0;
  while ((de = readdir(dir)) != NULL) {
    StRawProcess proc;
    if (de->d_name[0] < '1' || de->d_name[0] > '9')
      continue;
    if (read_one(self, procfd, de->d_name, boot_ns, &proc))
      g_array_append_val(out->procs, proc);
  }
  closedir(dir);
  return TRUE;
}

static void
proc_free(StBackend *backend)
{
  StBackendProc *self = (StBackendProc *)backend;
  g_free(self->root);
  g_free(self);
}

StBackend *
st_backend_proc_new(const char *proc_root, GError **error)
{
  StBackendProc *self;
  long hz = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);

  if (hz <= 0 || page <= 0) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED,
                "Cannot read the clock tick or page size");
    return NULL;
  }
  if (g_access(proc_root, R_OK | X_OK) != 0) {
    g_set_error(error, ST_COLLECTOR_ERROR, ST_COLLECTOR_ERROR_UNSUPPORTED, "%s is not readable",
                proc_root);
    return NULL;
  }
  self = g_new0(StBackendProc, 1);
  self->parent.name = "proc";
  self->parent.read = proc_read;
  self->parent.free = proc_free;
  self->root = g_strdup(proc_root);
  self->tick_ns = G_GUINT64_CONSTANT(1000000000) / (guint64)hz;
  self->page_size = (guint64)page;
  self->uid = geteuid();
  return &self->parent;
}
