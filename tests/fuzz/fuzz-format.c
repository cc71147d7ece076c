/* fuzz-format.c: the notification body formatter with hostile names. The
 * body must be valid UTF-8 and well-formed markup: no name may open a tag. */
#include "st-format.h"

#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StDecision d = {0};
  StNotificationText text = {0};
  StOffender o = {0};
  g_autofree char *name = NULL;
  g_autofree char *wrapped = NULL;
  g_autoptr(GMarkupParseContext) ctx = NULL;
  GMarkupParser parser = {0};
  const char *payload = (const char *)data + 3;
  gsize plen, half;

  if (size < 3)
    return 0;
  plen = size - 3;
  half = plen / 2;
  d.kind = data[0] % 3;
  d.metric = data[1] % ST_N_METRICS;
  d.level = data[2] % 2;
  d.pid = 4242;
  name = g_strndup(payload, half);
  d.name = name;
  memcpy(d.comm, payload, MIN(sizeof(d.comm) - 1, plen));
  d.value = (gdouble)data[1] * 3.7;
  d.threshold = 90;
  d.over_s = data[2];
  d.subject = (char *)"fuzz";
  d.others = g_array_new(FALSE, TRUE, sizeof(StOffender));
  o.pid = 7;
  o.name = g_strndup(payload + half, plen - half);
  o.value = 12;
  g_array_append_val(d.others, o);
  d.mem_total_bytes = G_GUINT64_CONSTANT(8) << 30;

  st_format_decision(&d, &text);
  g_assert(g_utf8_validate(text.body, -1, NULL));
  g_assert(g_utf8_validate(text.summary, -1, NULL));
  g_assert(strchr(text.body, '<') == NULL);
  wrapped = g_strconcat("<b>", text.body, "</b>", NULL);
  ctx = g_markup_parse_context_new(&parser, 0, NULL, NULL);
  g_assert(g_markup_parse_context_parse(ctx, wrapped, -1, NULL));
  g_assert(g_markup_parse_context_end_parse(ctx, NULL));

  st_notification_text_clear(&text);
  g_free(o.name);
  g_array_unref(d.others);
  return 0;
}
