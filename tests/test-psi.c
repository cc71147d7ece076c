/* test-psi.c: the PSI trigger's room on a stand-in fd. A real trigger
 * raises POLLPRI on a stall; a socket's out-of-band byte raises it too. */
#include "config.h"

#include "st-psi.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int ours;  /* the end the room watches */
  int other; /* the test's end: MSG_OOB for an event, close for HUP */
  guint fired;
} Fixture;

static void
on_fired(gpointer data)
{
  Fixture *f = data;
  char b;

  f->fired++;
  /* The kernel clears a trigger's event when it is polled; the stand-in's
   * urgent byte must be read for the same effect. */
  (void)recv(f->ours, &b, 1, MSG_OOB);
}

static gboolean
socket_pair_or_skip(Fixture *f)
{
  int sv[2];
  char b = 'x';

  g_assert_no_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  f->ours = sv[0];
  f->other = sv[1];
  f->fired = 0;
  if (send(f->other, &b, 1, MSG_OOB) != 1) {
    g_test_skip_printf("no out-of-band data on AF_UNIX sockets here: %s", g_strerror(errno));
    close(sv[0]);
    close(sv[1]);
    return FALSE;
  }
  /* Read back so that each test starts with nothing pending. */
  g_assert_cmpint(recv(f->ours, &b, 1, MSG_OOB), ==, 1);
  return TRUE;
}

static void
iterate_for(guint ms)
{
  gint64 end = g_get_monotonic_time() + ms * 1000;
  while (g_get_monotonic_time() < end)
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(1000);
}

static void
test_event_calls_back(void)
{
  Fixture f;
  g_autoptr(StPsi) psi = NULL;
  char b = 'x';

  if (!socket_pair_or_skip(&f))
    return;
  psi = st_psi_new_for_fd(f.ours, on_fired, &f);
  iterate_for(50);
  g_assert_cmpuint(f.fired, ==, 0);
  g_assert_cmpint(send(f.other, &b, 1, MSG_OOB), ==, 1);
  iterate_for(100);
  g_assert_cmpuint(f.fired, ==, 1);
  g_assert_cmpint(send(f.other, &b, 1, MSG_OOB), ==, 1);
  iterate_for(100);
  g_assert_cmpuint(f.fired, ==, 2);
  g_assert_true(st_psi_is_armed(psi));
  g_clear_pointer(&psi, st_psi_free);
  /* Freed: the fd went with it. */
  g_assert_cmpint(fcntl(f.ours, F_GETFD), ==, -1);
  g_assert_cmpint(errno, ==, EBADF);
  close(f.other);
}

static void
test_hup_removes_and_closes(void)
{
  Fixture f;
  g_autoptr(StPsi) psi = NULL;
  guint dispatched = 0;

  if (!socket_pair_or_skip(&f))
    return;
  psi = st_psi_new_for_fd(f.ours, on_fired, &f);
  close(f.other); /* the kernel closing the trigger: POLLHUP */
  iterate_for(100);
  g_assert_false(st_psi_is_armed(psi));
  g_assert_cmpuint(f.fired, ==, 0);
  g_assert_cmpint(fcntl(f.ours, F_GETFD), ==, -1);
  g_assert_cmpint(errno, ==, EBADF);
  /* No spin: nothing is left to dispatch. */
  for (guint i = 0; i < 100; i++)
    dispatched += g_main_context_iteration(NULL, FALSE);
  g_assert_cmpuint(dispatched, ==, 0);
}

static void
test_real_trigger(void)
{
  g_autoptr(StPsi) psi = NULL;
  Fixture f = {0};

  if (!g_file_test("/proc/pressure/memory", G_FILE_TEST_EXISTS)) {
    g_test_skip("no /proc/pressure/memory (CONFIG_PSI, psi=1)");
    return;
  }
  psi = st_psi_new(on_fired, &f);
  if (psi == NULL) {
    g_test_skip("the kernel allows this user no PSI trigger");
    return;
  }
  g_assert_true(st_psi_is_armed(psi));
}

/* A stall right after a sample is kept for the rest of that second, never
 * dropped; after the second, sampled at once. */
static void
test_spacing(void)
{
  g_assert_cmpint(st_psi_delay_us(0), ==, ST_PSI_MIN_SPACING_US);
  g_assert_cmpint(st_psi_delay_us(300000), ==, ST_PSI_MIN_SPACING_US - 300000);
  g_assert_cmpint(st_psi_delay_us(ST_PSI_MIN_SPACING_US - 1), ==, 1);
  g_assert_cmpint(st_psi_delay_us(ST_PSI_MIN_SPACING_US), ==, 0);
  g_assert_cmpint(st_psi_delay_us(5 * G_USEC_PER_SEC), ==, 0);
  g_assert_cmpint(st_psi_delay_us(-1), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/psi/event-calls-back", test_event_calls_back);
  g_test_add_func("/psi/hup-removes-and-closes", test_hup_removes_and_closes);
  g_test_add_func("/psi/real-trigger", test_real_trigger);
  g_test_add_func("/psi/spacing", test_spacing);
  return g_test_run();
}
