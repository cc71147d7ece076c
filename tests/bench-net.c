/* bench-net.c: what the network hooks cost a program that uses the network,
 * side by side with the syscall hooks, and that calm attaches none.
 *
 * A loop of 64-byte UDP datagrams over loopback (sendto + recv: the
 * cheapest network calls, where a per-call hook weighs most), timed with
 * no hook, with the network hooks (sock_send_length, sock_recv_length) and
 * with the syscall hooks (sys_enter, sched_switch, sched_process_exit), in
 * rounds that alternate so that drift hits all three alike. Prints
 * figures; never fails for being slow.
 *   bench-net [ROUNDS [PAIRS]]   (root: the BPF collector)
 */
#include "collector-or-skip.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench-clock.h"

/* ns per sendto + recv pair. */
static gdouble
loop_ns(int tx, int rx, const struct sockaddr_in *to, guint pairs)
{
  char buf[64] = {0};
  guint64 t0 = mono_ns();

  for (guint i = 0; i < pairs; i++) {
    if (sendto(tx, buf, sizeof(buf), 0, (const struct sockaddr *)to, sizeof(*to)) < 0 ||
        recv(rx, buf, sizeof(buf), 0) < 0)
      g_error("loopback UDP failed: %s", g_strerror(errno));
  }
  return (gdouble)(mono_ns() - t0) / pairs;
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;
  return (x > y) - (x < y);
}

static gdouble
median(GArray *xs)
{
  g_array_sort(xs, cmp_double);
  return g_array_index(xs, gdouble, xs->len / 2);
}

int
main(int argc, char **argv)
{
  guint rounds = argc > 1 ? (guint)atoi(argv[1]) : 5;
  guint pairs = argc > 2 ? (guint)atoi(argv[2]) : 200000;
  g_autoptr(StCollector) c = st_collector_new(ST_BACKEND_BPF);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(gdouble));
  g_autoptr(GArray) net = g_array_new(FALSE, FALSE, sizeof(gdouble));
  g_autoptr(GArray) sys = g_array_new(FALSE, FALSE, sizeof(gdouble));
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof(addr);
  guint calm_links;
  int tx, rx;

  if (!st_collector_init(c, &error) || g_strcmp0(st_collector_get_backend_name(c), "bpf") != 0) {
    g_print("bench-net: needs the BPF collector (%s)\n",
            error != NULL ? error->message : "it fell back to /proc");
    return 0;
  }
  if (!st_collector_can_count_net(c)) {
    g_print("bench-net: this kernel has no socket length tracepoints (Linux 6.3)\n");
    return 0;
  }
  st_collector_set_syscall_counting(c, FALSE, NULL);
  calm_links = st_test_count_hook_links();
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (tx < 0 || rx < 0 || bind(rx, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      getsockname(rx, (struct sockaddr *)&addr, &len) != 0)
    g_error("sockets: %s", g_strerror(errno));
  loop_ns(tx, rx, &addr, pairs / 10); /* warm up */
  for (guint r = 0; r < rounds; r++) {
    gdouble v = loop_ns(tx, rx, &addr, pairs);
    g_array_append_val(none, v);
    g_assert_true(st_collector_set_net_counting(c, TRUE, NULL));
    v = loop_ns(tx, rx, &addr, pairs);
    g_array_append_val(net, v);
    g_assert_true(st_collector_set_net_counting(c, FALSE, NULL));
    g_assert_true(st_collector_set_syscall_counting(c, TRUE, NULL));
    v = loop_ns(tx, rx, &addr, pairs);
    g_array_append_val(sys, v);
    g_assert_true(st_collector_set_syscall_counting(c, FALSE, NULL));
  }
  {
    gdouble m0 = median(none), mn = median(net), ms = median(sys);
    g_print("bench-net: %u rounds of %u UDP sendto+recv pairs over loopback (64 bytes)\n", rounds,
            pairs);
    g_print("  hook links attached while calm: %u\n", calm_links);
    g_print("  no hooks:            %7.0f ns a pair\n", m0);
    g_print("  network hooks:       %7.0f ns a pair (%+.0f ns, %+.1f%%)\n", mn, mn - m0,
            100 * (mn - m0) / m0);
    g_print("  syscall hooks:       %7.0f ns a pair (%+.0f ns, %+.1f%%)\n", ms, ms - m0,
            100 * (ms - m0) / m0);
  }
  close(tx);
  close(rx);
  return 0;
}
