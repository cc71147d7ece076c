/* st-notification-text.h: the words of one notification, as plain data.
 *
 * What st-format.c makes from a decision and st-notifier.c shows. Kept
 * apart from st-format.h so that the notifier sees the text and never the
 * engine's types: it does not decide.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *summary;  /* plain text (servers do not render markup in summaries) */
  char *body;     /* markup-escaped */
  char *plain;    /* the same as body, unescaped, for logs */
  guint8 urgency; /* 0 low, 1 normal, 2 critical */
  const char *category;
  char *icon; /* themed icon name */
} StNotificationText;

/* Frees the strings (implemented in st-format.c). */
void st_notification_text_clear(StNotificationText *t);

G_END_DECLS

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StNotificationText, st_notification_text_clear)
