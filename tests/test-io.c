/* test-io.c: storage I/O per process against ground truth.
 *
 * A child writes two files of 128 MiB and fsyncs them, drops them from the
 * page cache (posix_fadvise DONTNEED), reads one back whole (a whole file:
 * read-ahead would read past a part of it), and waits to be told
 * to exit; the real collector samples all along. The child must be charged
 * what it wrote and read within 5%, and the harness (the test's other
 * process) no more than 1 MiB of either. On a file system without storage
 * accounting (tmpfs: nothing is written to a disk) the test skips, saying
 * so.
 *
 * Network: two children move 256 MiB over a loopback TCP connection with the
 * network hooks attached; each is charged 256 MiB (sent by one, received by
 * the other) within 5%, the harness no more than 1 MiB. BPF only, Linux 6.3+.
 */
#include "collector-or-skip.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <glib-unix.h>
#include "bench-clock.h"

#define MIB         (G_GUINT64_CONSTANT(1) << 20)
#define WRITE_BYTES (256 * MIB)
#define READ_BYTES  (128 * MIB)
#define SAMPLE_US   500000

/* A directory whose writes reach a disk: TMPDIR, /var/tmp, the build tree. */
static char *
disk_backed_dir(void)
{
  const char *candidates[] = {g_get_tmp_dir(), "/var/tmp", g_getenv("G_TEST_BUILDDIR")};
  for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
    struct statfs sf;
    if (candidates[i] == NULL || access(candidates[i], W_OK) != 0 ||
        statfs(candidates[i], &sf) != 0)
      continue;
    if (sf.f_type != TMPFS_MAGIC && sf.f_type != RAMFS_MAGIC && sf.f_type != OVERLAYFS_SUPER_MAGIC)
      return g_strdup(candidates[i]);
  }
  return NULL;
}

static void
write_file(const char *path, const char *block, guint64 size)
{
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);

  if (fd < 0)
    _exit(1);
  for (guint64 done = 0; done < size; done += MIB)
    if (write(fd, block, MIB) != (gssize)MIB)
      _exit(2);
  if (fsync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
    _exit(3);
  close(fd);
}

static void
child_io(const char *path, int report_fd, int hold_fd)
{
  g_autofree char *block = g_malloc(MIB);
  g_autofree char *other = g_strconcat(path, ".2", NULL);
  char b = 'w';
  int fd;

  memset(block, 'x', MIB);
  write_file(path, block, READ_BYTES);
  write_file(other, block, WRITE_BYTES - READ_BYTES);
  unlink(other);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
    _exit(4);
  for (guint64 done = 0; done < READ_BYTES; done += MIB)
    if (read(fd, block, MIB) != (gssize)MIB)
      _exit(5);
  close(fd);
  if (write(report_fd, &b, 1) != 1 || read(hold_fd, &b, 1) < 0)
    _exit(6);
  _exit(0);
}

typedef struct {
  gdouble read, written;
} Charged;

static void
add_charge(Charged *c, const StProcess *p, gdouble secs)
{
  g_assert_true(st_value_available(p->disk_read_per_s));
  g_assert_true(st_value_available(p->disk_write_per_s));
  c->read += p->disk_read_per_s * secs;
  c->written += p->disk_write_per_s * secs;
}

static void
test_disk(gconstpointer data)
{
  StBackendKind kind = GPOINTER_TO_INT(data);
  g_autoptr(StCollector) c = NULL;
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autofree char *dir = disk_backed_dir();
  g_autofree char *path = NULL;
  Charged child = {0}, self = {0}, bound = {0};
  int report[2], hold[2];
  gboolean done = FALSE;
  pid_t pid;
  char b;

  if (dir == NULL) {
    g_test_skip("no disk-backed directory to write to (tmpfs only)");
    return;
  }
  c = collector_or_skip(kind);
  if (c == NULL)
    return;
  path = g_strdup_printf("%s/smoothtask-io-%d", dir, (int)getpid());
  g_assert_no_errno(pipe(report));
  g_assert_no_errno(pipe(hold));
  g_assert_true(st_collector_sample(c, mono_ns(), snap, NULL));
  pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    close(report[0]);
    close(hold[1]);
    child_io(path, report[1], hold[0]);
  }
  close(report[1]);
  close(hold[0]);
  g_unix_set_fd_nonblocking(report[0], TRUE, NULL);
  /* Until the child has done everything, and one sample more. */
  for (guint n = 0; n < 240; n++) {
    const StProcess *p;
    g_usleep(SAMPLE_US);
    done = done || read(report[0], &b, 1) == 1;
    g_assert_true(st_collector_sample(c, mono_ns(), snap, NULL));
    /* What the block layer and the page cache saw: no program can be
     * charged more (st-figures.c skips reading processes below it). */
    g_assert_true(st_value_available(snap->block_read_per_s));
    bound.read += snap->block_read_per_s * snap->interval_s;
    bound.written += snap->block_write_per_s * snap->interval_s;
    if ((p = st_snapshot_find(snap, pid)) != NULL)
      add_charge(&child, p, snap->interval_s);
    if ((p = st_snapshot_find(snap, getpid())) != NULL)
      add_charge(&self, p, snap->interval_s);
    if (done && n > 0)
      break;
  }
  g_assert_true(done);
  /* Reaped: the child's whole total lands in the harness's; what was shown
   * as the child's is not charged to the harness again. */
  close(hold[1]);
  g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
  for (guint n = 0; n < 2; n++) {
    const StProcess *p;
    g_usleep(SAMPLE_US);
    g_assert_true(st_collector_sample(c, mono_ns(), snap, NULL));
    if ((p = st_snapshot_find(snap, getpid())) != NULL)
      add_charge(&self, p, snap->interval_s);
  }
  unlink(path);
  g_test_message("%s: child charged %.1f MiB written (wrote %" G_GUINT64_FORMAT
                 "), %.1f MiB read (read %" G_GUINT64_FORMAT "); harness %.2f / %.2f MiB",
                 snap->backend, child.written / MIB, WRITE_BYTES / MIB, child.read / MIB,
                 READ_BYTES / MIB, self.written / MIB, self.read / MIB);
  g_test_message("bounds: block layer read %.1f MiB, written + dirtied %.1f MiB", bound.read / MIB,
                 bound.written / MIB);
  g_assert_cmpfloat(child.read, <=, bound.read + MIB);
  g_assert_cmpfloat(child.written, <=, bound.written + MIB);
  g_assert_cmpfloat(fabs(child.written - WRITE_BYTES), <=, 0.05 * WRITE_BYTES);
  g_assert_cmpfloat(fabs(child.read - READ_BYTES), <=, 0.05 * READ_BYTES);
  g_assert_cmpfloat(self.written, <=, MIB);
  g_assert_cmpfloat(self.read, <=, MIB);
}

#define NET_BYTES (256 * MIB)

/* Sends (listen_fd < 0: connects to port) or receives NET_BYTES, reports,
 * waits to be told to exit. */
static void
child_net(int listen_fd, int port, int report_fd, int hold_fd)
{
  g_autofree char *block = g_malloc0(MIB);
  guint64 done = 0;
  char b = 'n';
  int fd;

  if (listen_fd >= 0) {
    fd = accept(listen_fd, NULL, NULL);
    while (fd >= 0 && done < NET_BYTES) {
      gssize n = read(fd, block, MIB);
      if (n <= 0)
        _exit(2);
      done += (guint64)n;
    }
  } else {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((guint16)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
      _exit(1);
    while (done < NET_BYTES) {
      gssize n = write(fd, block, MIN(MIB, NET_BYTES - done));
      if (n <= 0)
        _exit(2);
      done += (guint64)n;
    }
    shutdown(fd, SHUT_WR);
  }
  if (write(report_fd, &b, 1) != 1 || read(hold_fd, &b, 1) < 0)
    _exit(6);
  _exit(0);
}

static void
test_network(void)
{
  g_autoptr(StCollector) c = collector_or_skip(ST_BACKEND_BPF);
  g_autoptr(StSnapshot) snap = st_snapshot_new();
  g_autoptr(GError) error = NULL;
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof(addr);
  gdouble charged[3] = {0, 0, 0};
  pid_t pids[2];
  int report[2], hold[2], lfd, done = 0;
  char b;

  if (c == NULL)
    return;
  if (!st_collector_can_count_net(c)) {
    g_test_skip("this kernel has no socket length tracepoints (Linux 6.3)");
    return;
  }
  g_assert_true(st_collector_set_net_counting(c, TRUE, &error));
  g_assert_no_error(error);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(lfd, >=, 0);
  g_assert_no_errno(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)));
  g_assert_no_errno(listen(lfd, 1));
  g_assert_no_errno(getsockname(lfd, (struct sockaddr *)&addr, &len));
  g_assert_no_errno(pipe(report));
  g_assert_no_errno(pipe(hold));
  g_assert_true(st_collector_sample(c, mono_ns(), snap, NULL));
  for (guint k = 0; k < 2; k++) {
    pids[k] = fork();
    g_assert_cmpint(pids[k], >=, 0);
    if (pids[k] == 0) {
      close(report[0]);
      close(hold[1]);
      child_net(k == 0 ? lfd : -1, ntohs(addr.sin_port), report[1], hold[0]);
    }
  }
  close(lfd);
  close(report[1]);
  close(hold[0]);
  g_unix_set_fd_nonblocking(report[0], TRUE, NULL);
  for (guint n = 0; n < 240; n++) {
    const StProcess *p;
    g_usleep(SAMPLE_US);
    while (read(report[0], &b, 1) == 1)
      done++;
    g_assert_true(st_collector_sample(c, mono_ns(), snap, NULL));
    for (guint k = 0; k < 2; k++)
      if ((p = st_snapshot_find(snap, pids[k])) != NULL && st_value_available(p->net_per_s))
        charged[k] += p->net_per_s * snap->interval_s;
    if ((p = st_snapshot_find(snap, getpid())) != NULL && st_value_available(p->net_per_s))
      charged[2] += p->net_per_s * snap->interval_s;
    if (done == 2 && n > 0)
      break;
  }
  g_assert_cmpint(done, ==, 2);
  close(hold[1]);
  for (guint k = 0; k < 2; k++)
    g_assert_cmpint(waitpid(pids[k], NULL, 0), ==, pids[k]);
  g_assert_true(st_collector_set_net_counting(c, FALSE, NULL));
  g_test_message("receiver charged %.1f MiB, sender %.1f MiB (moved %" G_GUINT64_FORMAT
                 " MiB); harness %.2f MiB",
                 charged[0] / MIB, charged[1] / MIB, NET_BYTES / MIB, charged[2] / MIB);
  for (guint k = 0; k < 2; k++)
    g_assert_cmpfloat(fabs(charged[k] - NET_BYTES), <=, 0.05 * NET_BYTES);
  g_assert_cmpfloat(charged[2], <=, MIB);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/io/disk/bpf", GINT_TO_POINTER(ST_BACKEND_BPF), test_disk);
  g_test_add_data_func("/io/disk/proc", GINT_TO_POINTER(ST_BACKEND_PROC), test_disk);
  g_test_add_func("/io/network/bpf", test_network);
  return g_test_run();
}
