/* st-oom.c: OOM victims from a counter and two samples (see the header). */
#define G_LOG_DOMAIN "smoothtask-oom"

#include "st-oom.h"

#include <string.h>

struct _StOomWatch {
  guint32 uid;
  guint64 kills;
  gboolean have_kills;
  GArray *candidates; /* of StOomVictim: the largest of the last sample */
  guint64 waiting;    /* kills not explained yet: their victim may still be exiting */
};

static void
victim_clear(gpointer p)
{
  StOomVictim *v = p;
  g_free(v->name);
  g_free(v->app_id);
}

static GArray *
victims_new(void)
{
  GArray *a = g_array_new(FALSE, TRUE, sizeof(StOomVictim));
  g_array_set_clear_func(a, victim_clear);
  return a;
}

StOomWatch *
st_oom_watch_new(guint32 uid)
{
  StOomWatch *self = g_new0(StOomWatch, 1);
  self->uid = uid;
  self->candidates = victims_new();
  return self;
}

void
st_oom_watch_free(StOomWatch *self)
{
  if (self == NULL)
    return;
  g_array_unref(self->candidates);
  g_free(self);
}

gboolean
st_oom_watch_needs_processes(const StOomWatch *self, guint64 kills)
{
  return self->waiting > 0 || (kills != G_MAXUINT64 && (!self->have_kills || kills != self->kills));
}

void
st_oom_watch_forget_exited(StOomWatch *self, StOomAliveFunc alive)
{
  for (guint i = 0; i < self->candidates->len;) {
    if (alive(g_array_index(self->candidates, StOomVictim, i).pid))
      i++;
    else
      g_array_remove_index(self->candidates, i);
  }
}

static int
by_rss(gconstpointer a, gconstpointer b)
{
  const StOomVictim *x = a, *y = b;
  return (x->rss_bytes < y->rss_bytes) - (x->rss_bytes > y->rss_bytes);
}

/* The user's largest processes now (root: everyone's). */
static void
remember(StOomWatch *self, const StSnapshot *snap)
{
  g_array_set_size(self->candidates, 0);
  for (guint i = 0; i < snap->processes->len; i++) {
    const StProcess *p = &g_array_index(snap->processes, StProcess, i);
    StOomVictim v = {0};

    if ((self->uid != 0 && p->uid != self->uid) || p->rss_bytes == 0)
      continue;
    if (self->candidates->len == ST_OOM_CANDIDATES) {
      StOomVictim *smallest = &g_array_index(self->candidates, StOomVictim, ST_OOM_CANDIDATES - 1);
      if (p->rss_bytes <= smallest->rss_bytes)
        continue;
      g_array_remove_index(self->candidates, ST_OOM_CANDIDATES - 1);
    }
    v.pid = p->pid;
    v.start_time = p->start_time;
    v.uid = p->uid;
    memcpy(v.comm, p->comm, sizeof(v.comm));
    v.name = g_strdup(st_process_name(p));
    v.app_id = g_strdup(p->app_id);
    v.rss_bytes = p->rss_bytes;
    g_array_append_val(self->candidates, v);
    g_array_sort(self->candidates, by_rss);
  }
}

/* A victim may still be listed while it exits: killed, its memory already
 * taken back by the OOM reaper, or a zombie its parent has not reaped. */
static gboolean
still_there(const StSnapshot *snap, const StOomVictim *v)
{
  const StProcess *p = st_snapshot_find(snap, v->pid);
  return p != NULL && p->start_time == v->start_time && p->rss_bytes > 0;
}

GArray *
st_oom_watch_update(StOomWatch *self, guint64 kills, const StSnapshot *snap, guint *unnamed)
{
  GArray *out = victims_new();
  guint64 new_kills = 0, left;

  *unnamed = 0;
  if (kills != G_MAXUINT64) {
    if (self->have_kills && kills > self->kills)
      new_kills = kills - self->kills;
    self->kills = kills;
    self->have_kills = TRUE;
  }
  left = new_kills + self->waiting;
  /* Largest first: the candidates are sorted so. */
  for (guint i = 0; left > 0 && i < self->candidates->len; i++) {
    StOomVictim *v = &g_array_index(self->candidates, StOomVictim, i);
    if (still_there(snap, v))
      continue;
    g_array_append_val(out, *v);
    /* Moved to out: the candidate array must not free its strings. */
    v->name = v->app_id = NULL;
    left--;
  }
  /* A kill counted before its victim was gone from the list is named in
   * the next sample; one that waited already is nobody's we can see. */
  *unnamed = (guint)MIN(left > new_kills ? left - new_kills : 0, G_MAXUINT);
  self->waiting = left - *unnamed;
  remember(self, snap);
  return out;
}
