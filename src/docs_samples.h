/* The sample curl lines of the documentation pages (ref §7.2's order): built for this site's
 * URL from the registry and from records that exist when the page is rendered, so each
 * line works when pasted with $TOKEN set. Lines are shell-quoted here and HTML-escaped
 * when written into a page. It does not authorise anything (docs.c does). */
#ifndef GRANTD_DOCS_SAMPLES_H
#define GRANTD_DOCS_SAMPLES_H

#include "ctx.h"

/* TOKEN=$(curl ... /oauth/token ...) for site. */
void samples_token_line(struct buf *cmd, const char *site);
/* One copyable block (<div class="sample"><pre><code>...). */
void samples_block(struct buf *page, const char *id, const struct buf *cmd);
/* Every sample of class k for API version v; `viewer` (a user id) is never the target of
 * the update, promote or delete samples. */
void samples_render(struct ctx *c, struct buf *page, const struct class_def *k, int v,
                    const char *site, int64_t viewer);

#endif
