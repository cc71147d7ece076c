/* test-incident.c: one incident, one notification, then quiet. Pure: hand
 * made decisions and a fake clock. */
#include "st-incident.h"

#include <stdlib.h>
#include <string.h>

#define S (G_USEC_PER_SEC)

static StDecision *
decision(StDecisionKind kind, StMetric metric, const char *subject, const char *name, gdouble value,
         gdouble threshold)
{
  StDecision *d = g_new0(StDecision, 1);
  d->kind = kind;
  d->metric = metric;
  d->subject = g_strdup(subject);
  d->name = g_strdup(name);
  d->pid = name != NULL && !g_str_has_prefix(subject, "app:") ? atoi(subject) : 0;
  if (name != NULL)
    g_strlcpy(d->comm, name, sizeof(d->comm));
  d->value = value;
  d->current = value;
  d->threshold = threshold;
  d->over_s = 10;
  d->notify = TRUE;
  d->reason = ST_CLEAR_RECOVERED;
  d->others = g_array_new(FALSE, TRUE, sizeof(StOffender));
  d->mem_total_bytes = 8ull << 30;
  return d;
}

static GPtrArray *
batch(void)
{
  return g_ptr_array_new_with_free_func((GDestroyNotify)st_decision_free);
}

static guint
count(GPtrArray *actions, StIncidentActionKind kind)
{
  guint n = 0;
  for (guint i = 0; i < actions->len; i++)
    n += ((StIncidentAction *)g_ptr_array_index(actions, i))->kind == kind;
  return n;
}

static StIncidentAction *
first(GPtrArray *actions)
{
  g_assert_cmpuint(actions->len, >, 0);
  return g_ptr_array_index(actions, 0);
}

/* A busy process trips its own alert, the system CPU and CPU pressure:
 * one notification naming the process; the rest is context. */
static void
test_one_resource_merges(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autoptr(GPtrArray) d = batch();
  g_autoptr(GPtrArray) a = NULL;

  g_ptr_array_add(d,
                  decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "4242:1", "burner", 99, 80));
  g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_CPU, "system", NULL, 55, 50));
  g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_PRESSURE_CPU, "system", NULL, 30, 20));
  a = st_incidents_update(inc, d, 0);
  g_assert_cmpuint(a->len, ==, 1);
  g_assert_cmpint(first(a)->kind, ==, ST_INCIDENT_SHOW);
  g_assert_true(first(a)->raise);
  g_assert_cmpstr(first(a)->text.summary, ==, "burner is using 99% CPU");
  g_assert_nonnull(strstr(first(a)->text.plain, "All CPUs have been 55% busy"));
  g_assert_nonnull(strstr(first(a)->text.plain, "waited for the CPU"));
  g_assert_cmpstr(first(a)->primary->subject, ==, "4242:1");
}

/* A getppid loop: its CPU and its syscalls, and the system's syscalls. */
static void
test_same_culprit_two_resources(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autoptr(GPtrArray) d = batch();
  g_autoptr(GPtrArray) a = NULL;

  g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "77:5", "loop", 100, 80));
  g_ptr_array_add(
      d, decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_SYSCALLS, "77:5", "loop", 3.2e6, 1e5));
  g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_SYSCALLS, "system", NULL, 3.3e6, 5e5));
  a = st_incidents_update(inc, d, 0);
  g_assert_cmpuint(a->len, ==, 1);
  g_assert_cmpstr(first(a)->text.summary, ==, "loop is using 100% CPU and making 3.2M syscalls/s");
  g_assert_cmpuint(st_incidents_get_n(inc), ==, 1);
}

/* Figures moving every sample change nothing on screen; another culprit
 * does, but not within a minute of the last show. */
static void
test_update_policy(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  guint shows = 0;

  for (gint64 t = 0; t <= 200; t++) {
    g_autoptr(GPtrArray) d = batch();
    g_autoptr(GPtrArray) a = NULL;
    StDecisionKind k = t == 0 ? ST_DECISION_RAISE : ST_DECISION_UPDATE;
    /* A new culprit at 30 s: the first one clears, another is raised. */
    if (t < 30) {
      g_ptr_array_add(d, decision(k, ST_METRIC_PROCESS_CPU, "10:1", "make", 90 + t % 7, 80));
    } else if (t == 30) {
      g_ptr_array_add(d, decision(ST_DECISION_CLEAR, ST_METRIC_PROCESS_CPU, "10:1", "make", 5, 80));
      g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "11:1", "cc1", 95, 80));
    } else {
      g_ptr_array_add(
          d, decision(ST_DECISION_UPDATE, ST_METRIC_PROCESS_CPU, "11:1", "cc1", 90 + t % 9, 80));
    }
    a = st_incidents_update(inc, d, t * S);
    g_assert_cmpuint(count(a, ST_INCIDENT_RECOVER) + count(a, ST_INCIDENT_WITHDRAW), ==, 0);
    if (count(a, ST_INCIDENT_SHOW) > 0) {
      shows++;
      /* The raise, then the new culprit once the minute has passed. */
      g_assert_true(t == 0 || t == 60);
      if (t == 60)
        g_assert_nonnull(strstr(first(a)->text.summary, "cc1"));
    }
  }
  g_assert_cmpuint(shows, ==, 2);
}

static void
test_escalation_is_immediate(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autoptr(GPtrArray) d1 = batch(), d2 = batch();
  g_autoptr(GPtrArray) a1 = NULL, a2 = NULL;
  StDecision *crit;

  g_ptr_array_add(d1, decision(ST_DECISION_RAISE, ST_METRIC_MEMORY, "system", NULL, 91, 90));
  a1 = st_incidents_update(inc, d1, 0);
  g_assert_cmpuint(count(a1, ST_INCIDENT_SHOW), ==, 1);
  crit = decision(ST_DECISION_UPDATE, ST_METRIC_MEMORY, "system", NULL, 98, 97);
  crit->level = ST_LEVEL_CRITICAL;
  g_ptr_array_add(d2, crit);
  a2 = st_incidents_update(inc, d2, 5 * S);
  g_assert_cmpuint(count(a2, ST_INCIDENT_SHOW), ==, 1);
  g_assert_cmpint(first(a2)->text.urgency, ==, 2);
  g_assert_false(first(a2)->raise);
  g_assert_cmpstr(first(a2)->key, ==, first(a1)->key);
}

/* Closed by the user: quiet until it recovers, and no recovery message. */
static void
test_dismissed_stays_quiet(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autofree char *key = NULL;

  for (gint64 t = 0; t < 300; t++) {
    g_autoptr(GPtrArray) d = batch();
    g_autoptr(GPtrArray) a = NULL;
    if (t < 250)
      g_ptr_array_add(d, decision(t == 0 ? ST_DECISION_RAISE : ST_DECISION_UPDATE,
                                  ST_METRIC_PROCESS_CPU, t < 100 ? "5:1" : "6:1", "hog", 99, 80));
    if (t == 100)
      g_ptr_array_add(d, decision(ST_DECISION_CLEAR, ST_METRIC_PROCESS_CPU, "5:1", "hog", 1, 80));
    if (t == 250)
      g_ptr_array_add(d, decision(ST_DECISION_CLEAR, ST_METRIC_PROCESS_CPU, "6:1", "hog2", 1, 80));
    a = st_incidents_update(inc, d, t * S);
    if (t == 0) {
      key = g_strdup(first(a)->key);
      st_incidents_dismiss(inc, key);
      continue;
    }
    g_assert_cmpuint(a->len, ==, 0);
  }
  g_assert_cmpuint(st_incidents_get_n(inc), ==, 0);
}

static void
test_recovery(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autoptr(GPtrArray) d1 = batch(), d2 = batch(), d3 = batch(), d4 = batch();
  g_autoptr(GPtrArray) a1 = NULL, a2 = NULL, a3 = NULL, a4 = NULL;
  StDecision *gone;

  g_ptr_array_add(d1,
                  decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "9:1", "<b>x</b>", 99, 80));
  a1 = st_incidents_update(inc, d1, 0);
  /* The summary is plain text; the body is markup, escaped. */
  g_assert_cmpstr(first(a1)->text.summary, ==, "<b>x</b> is using 99% CPU");
  g_assert_null(strstr(first(a1)->text.body, "<b>"));
  gone = decision(ST_DECISION_CLEAR, ST_METRIC_PROCESS_CPU, "9:1", "<b>x</b>", NAN, 80);
  gone->reason = ST_CLEAR_EXITED;
  g_ptr_array_add(d2, gone);
  a2 = st_incidents_update(inc, d2, 10 * S);
  g_assert_cmpuint(a2->len, ==, 1);
  g_assert_cmpint(first(a2)->kind, ==, ST_INCIDENT_RECOVER);
  g_assert_cmpstr(first(a2)->key, ==, first(a1)->key);
  g_assert_nonnull(strstr(first(a2)->text.plain, "has exited"));
  /* Normal urgency: GNOME Shell shows no banner at all for low. */
  g_assert_cmpint(first(a2)->text.urgency, ==, 1);

  /* Muted (ignored, snoozed, disabled): simply withdrawn. */
  g_ptr_array_add(d3, decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "9:2", "y", 99, 80));
  a3 = st_incidents_update(inc, d3, 20 * S);
  gone = decision(ST_DECISION_CLEAR, ST_METRIC_PROCESS_CPU, "9:2", "y", NAN, 80);
  gone->reason = ST_CLEAR_MUTED;
  g_ptr_array_add(d4, gone);
  a4 = st_incidents_update(inc, d4, 21 * S);
  g_assert_cmpuint(a4->len, ==, 1);
  g_assert_cmpint(first(a4)->kind, ==, ST_INCIDENT_WITHDRAW);
  g_assert_cmpstr(first(a4)->key, !=, first(a1)->key);
}

/* Two programs on two resources are two incidents. */
static void
test_two_culprits(void)
{
  g_autoptr(StIncidents) inc = st_incidents_new();
  g_autoptr(GPtrArray) d = batch();
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) keys = NULL;

  g_ptr_array_add(d, decision(ST_DECISION_RAISE, ST_METRIC_PROCESS_CPU, "1:1", "a", 99, 80));
  g_ptr_array_add(
      d, decision(ST_DECISION_RAISE, ST_METRIC_APP_MEMORY, "app:firefox", "Firefox", 40, 30));
  a = st_incidents_update(inc, d, 0);
  g_assert_cmpuint(count(a, ST_INCIDENT_SHOW), ==, 2);
  keys = st_incidents_shown_keys(inc);
  g_assert_cmpuint(keys->len, ==, 2);
}

/* Ignore means the program: its path, or one script of an interpreter. */
static void
test_ignore_program(void)
{
  char *entries[] = {"/usr/bin/bash (backup.sh)", "/usr/lib/firefox/firefox", "Thunderbird", NULL};
  g_autoptr(GHashTable) set = st_engine_ignore_set_new(entries);
  g_autofree char *a = st_engine_ignore_program("/usr/lib/firefox/firefox", "firefox");
  g_autofree char *b = st_engine_ignore_program("/usr/bin/bash", "backup.sh");
  g_autofree char *c =
      st_engine_ignore_program("/usr/libexec/gnome-terminal-server", "gnome-terminal-");
  const char cut[] = {'a', 'b', '\xd0', '\0'};

  g_assert_cmpstr(a, ==, "/usr/lib/firefox/firefox");
  g_assert_cmpstr(b, ==, "/usr/bin/bash (backup.sh)");
  g_assert_cmpstr(c, ==, "/usr/libexec/gnome-terminal-server");
  g_assert_true(st_engine_ignored(set, "bash", "backup.sh", "/usr/bin/bash", NULL));
  g_assert_false(st_engine_ignored(set, "bash", "build.sh", "/usr/bin/bash", NULL));
  g_assert_false(st_engine_ignored(set, "bash", "bash", "/usr/bin/bash", NULL));
  g_assert_true(
      st_engine_ignored(set, "Web Content", "Web Content", "/usr/lib/firefox/firefox", NULL));
  /* A name alone is not a path. */
  g_assert_false(st_engine_ignored(set, "firefox", "firefox", "/opt/firefox/firefox", NULL));
  g_assert_true(st_engine_ignored(set, NULL, NULL, NULL, "thunderbird"));
  /* A comm cut inside a UTF-8 sequence is read within its bounds. */
  g_assert_false(st_engine_ignored(set, cut, cut, NULL, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/incident/one-resource-merges", test_one_resource_merges);
  g_test_add_func("/incident/same-culprit-two-resources", test_same_culprit_two_resources);
  g_test_add_func("/incident/update-policy", test_update_policy);
  g_test_add_func("/incident/escalation", test_escalation_is_immediate);
  g_test_add_func("/incident/dismissed", test_dismissed_stays_quiet);
  g_test_add_func("/incident/recovery", test_recovery);
  g_test_add_func("/incident/two-culprits", test_two_culprits);
  g_test_add_func("/incident/ignore-program", test_ignore_program);
  return g_test_run();
}
