/* fuzz-format.c: the notification formatter with hostile names and figures.
 *
 * Input: kind, metric, level, reason and number of others (1 byte each),
 * pid (4), value and threshold (4 each: n / 1000, or NAN for all ones),
 * seconds over (8, any double), RAM (6), then NUL-separated fields: name,
 * comm, and the name and comm of each other. Missing bytes read as zeros.
 * The body must be valid UTF-8 and markup that opens no tag, whose text is
 * the plain version, with no line but the one before the others. */
#include "st-format.h"

#include <stdint.h>
#include <string.h>

typedef struct {
  const uint8_t *p;
  size_t n;
} In;

static guint64
take(In *in, guint bytes)
{
  guint64 v = 0;
  for (guint i = 0; i<bytes; i++, in->n -= in->n> 0)
    v = v << 8 | (in->n > 0 ? *in->p++ : 0);
  return v;
}

static char *
field(In *in)
{
  const uint8_t *nul = memchr(in->p, '\0', in->n);
  size_t len = nul != NULL ? (size_t)(nul - in->p) : in->n;
  char *s = in->n > 0 ? g_strndup((const char *)in->p, len) : NULL;
  in->p += MIN(len + 1, in->n);
  in->n -= MIN(len + 1, in->n);
  return s;
}

static void
comm_field(In *in, char comm[16])
{
  g_autofree char *s = field(in);
  if (s != NULL)
    strncpy(comm, s, 15);
}

/* What the engine hands out: a figure >= 0, or NAN when unavailable. */
static gdouble
figure(In *in)
{
  guint32 raw = (guint32)take(in, 4);
  return raw == G_MAXUINT32 ? NAN : raw / 1000.0;
}

static void
collect(GMarkupParseContext *ctx, const char *text, gsize len, gpointer plain, GError **error)
{
  g_string_append_len(plain, text, (gssize)len);
}

static void
check(const StNotificationText *t, guint max_lines)
{
  static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"};
  GMarkupParser parser = {.text = collect};
  g_autoptr(GString) plain = g_string_new(NULL);
  g_autofree char *wrapped = g_strconcat("<b>", t->body, "</b>", NULL);
  g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, plain, NULL);
  guint lines = 0;

  g_assert(g_utf8_validate(t->summary, -1, NULL) && g_utf8_validate(t->body, -1, NULL));
  g_assert(strchr(t->body, '<') == NULL);
  for (const char *a = strchr(t->body, '&'); a != NULL; a = strchr(a + 1, '&')) {
    gboolean entity = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(entities); i++)
      entity |= g_str_has_prefix(a, entities[i]);
    g_assert(entity);
  }
  g_assert(g_markup_parse_context_parse(ctx, wrapped, -1, NULL));
  g_assert(g_markup_parse_context_end_parse(ctx, NULL));
  g_assert_cmpstr(plain->str, ==, t->plain);
  for (const char *p = t->plain; *p; p = g_utf8_next_char(p)) {
    lines += *p == '\n';
    g_assert(*p == '\n' || !g_unichar_iscntrl(g_utf8_get_char(p)));
  }
  g_assert_cmpuint(lines, <=, max_lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  In in = {data, size};
  StDecision d = {0};
  g_auto(StNotificationText) text = {0};
  guint n_others;
  guint64 bits;

  d.kind = take(&in, 1) % 3;
  d.metric = take(&in, 1) % ST_N_METRICS;
  d.level = take(&in, 1) % 2;
  d.reason = take(&in, 1) % 3;
  n_others = take(&in, 1) % 4;
  d.pid = (gint32)take(&in, 4);
  d.value = figure(&in);
  d.threshold = figure(&in);
  bits = take(&in, 8);
  memcpy(&d.over_s, &bits, sizeof(d.over_s));
  d.mem_total_bytes = take(&in, 6);
  d.subject = (char *)"fuzz";
  d.name = field(&in);
  comm_field(&in, d.comm);
  d.others = g_array_new(FALSE, TRUE, sizeof(StOffender));
  for (guint i = 0; i < n_others; i++) {
    StOffender o = {.pid = (gint32)i + 1, .value = i * 12.5};
    o.name = field(&in);
    comm_field(&in, o.comm);
    g_array_append_val(d.others, o);
  }

  st_format_decision(&d, &text);
  check(&text, d.kind != ST_DECISION_CLEAR && n_others > 0);

  for (guint i = 0; i < n_others; i++)
    g_free(g_array_index(d.others, StOffender, i).name);
  g_array_unref(d.others);
  g_free(d.name);
  return 0;
}
