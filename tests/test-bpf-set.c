/* test-bpf-set.c: the loader's hand-over text and its privilege decision,
 * with a fake probe standing for each kind of kernel. */
#include "st-bpf-set.h"
#include "st-privileges.h"

#include <errno.h>

static void
test_round_trip(void)
{
  StBpfSet set, back;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  st_bpf_set_init(&set);
  set.iter_link = 7;
  set.counts = 8;
  set.hooks[0] = 9;
  set.hooks[1] = 10;
  set.net[0] = 12;
  set.net[1] = 13;
  set.deferred = TRUE;
  set.lock = 11;
  set.keep = G_GUINT64_CONSTANT(1) << CAP_BPF_BIT;
  text = st_bpf_set_to_string(&set);
  g_assert_true(st_bpf_set_parse(text, &back, &error));
  g_assert_no_error(error);
  g_assert_cmpint(back.iter_link, ==, 7);
  g_assert_cmpint(back.counts, ==, 8);
  g_assert_cmpint(back.hooks[0], ==, 9);
  g_assert_cmpint(back.hooks[1], ==, 10);
  g_assert_cmpint(back.hooks[2], ==, -1);
  g_assert_cmpint(back.net[0], ==, 12);
  g_assert_cmpint(back.net[1], ==, 13);
  g_assert_true(back.deferred);
  g_assert_false(back.old_rss);
  g_assert_cmpint(back.lock, ==, 11);
  g_assert_cmpuint(back.keep, ==, set.keep);
}

/* Whatever a caller puts in SMOOTHTASK_BPF, nothing half-parsed is used:
 * stdio, negative or missing descriptors, other versions, junk. */
static void
test_rejects(void)
{
  const char *bad[] = {
      "",
      "v2 iter=3 counts=4 hooks=5,-1,-1",
      "v1 iter=3 counts=4",
      "v1 iter=1 counts=4 hooks=5,-1,-1",
      "v1 iter=3 counts=4 hooks=-1,-1,-1",
      "v1 iter=3 counts=4 hooks=5,6",
      "v1 iter=3 counts=4 hooks=5,2,-1",
      "v1 iter=3 counts=4 hooks=5,-1,-1 lock=0",
      "v1 iter=3 counts=4 hooks=5,-1,-1 deferred=yes",
      "v1 iter=3 counts=4 hooks=5,-1,-1 extra=1",
      "v1 iter=99999999999 counts=4 hooks=5,-1,-1",
      "v1 iter= counts=4 hooks=5,-1,-1",
      "v1 iter=3 counts=4 hooks=5,-1,-1 keep=-1",
      "v1 iter=3 counts=4 hooks=5,-1,-1 net=6",
      "v1 iter=3 counts=4 hooks=5,-1,-1 net=6,-1",
      "refused because",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    StBpfSet set;
    g_assert_false(st_bpf_set_parse(bad[i], &set, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(set.iter_link, ==, -1);
    g_assert_cmpint(set.hooks[0], ==, -1);
  }
}

/* A fake kernel: the capability mask its descriptors need, and the errno
 * it gives otherwise. */
typedef struct {
  guint64 needs;
  int err;
  guint calls;
} FakeKernel;

static int
fake_probe(guint64 keep, gpointer data)
{
  FakeKernel *k = data;
  k->calls++;
  return (keep & k->needs) == k->needs ? 0 : k->err;
}

static void
test_decide(void)
{
  const guint64 bpf = G_GUINT64_CONSTANT(1) << CAP_BPF_BIT;
  const guint64 perfmon = G_GUINT64_CONSTANT(1) << CAP_PERFMON_BIT;
  struct {
    FakeKernel k;
    guint64 want;
    int failed;
  } cases[] = {
      /* 5.19+: descriptors need nothing. */
      {{0, EPERM, 0}, 0, 0},
      /* 5.11-5.18 with unprivileged BPF disabled: every command needs CAP_BPF. */
      {{bpf, EPERM, 0}, bpf, 0},
      /* A kernel that also wants CAP_PERFMON to attach. */
      {{bpf | perfmon, EACCES, 0}, bpf | perfmon, 0},
      /* One that wants more than the loader has: /proc, with the reason. */
      {{G_GUINT64_CONSTANT(1) << CAP_SYS_ADMIN_BIT, EPERM, 0}, ST_BPF_NO_WAY, EPERM},
      /* Not a matter of privilege: no second try. */
      {{bpf, EINVAL, 0}, ST_BPF_NO_WAY, EINVAL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    int failed = -1;
    guint64 got = st_bpf_decide_privileges(fake_probe, &cases[i].k, &failed);
    g_assert_cmpuint(got, ==, cases[i].want);
    g_assert_cmpint(failed, ==, cases[i].failed);
  }
  g_assert_cmpuint(cases[4].k.calls, ==, 1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/bpf-set/round-trip", test_round_trip);
  g_test_add_func("/bpf-set/rejects", test_rejects);
  g_test_add_func("/bpf-set/decide", test_decide);
  return g_test_run();
}
