/* The change feed (feed.h). The answer is
 *   {"changes":[{"seq":N,"class":"grant_request","id":5,"operation":"update",
 *                "fields":["state"],"at":"2026-12-08T10:00:00Z","record":{...}}, ...],
 *    "next_cursor":N,"head":M,"has_more":false}
 * where "record" is the record as it is now (the request's cols/relation apply), or null
 * with "deleted":true once it is deleted. A reader keeps next_cursor and asks again with
 * since=next_cursor; every change comes once, in commit order. The answer leaves only when
 * every change in it is on stable storage (a change a reader saw can never vanish). */
#include "feed.h"
#include "changelog.h"
#include "ctx.h"
#include "durable.h"
#include "jsonw.h"
#include "params.h"
#include "store.h"
#include "value.h"
#include "worker.h"

#include <string.h>

struct feed_walk {
    struct ctx *c;
    struct buf body;
    int first;
    int failed;
    int64_t last;
};

static int one_change(void *arg, const struct changelog_entry *e)
{
    struct feed_walk *fw = arg;
    struct buf *b = &fw->body;
    char at[40];
    jw_sep(b, &fw->first);
    buf_adds(b, "{\"seq\":");
    jw_int(b, e->seq);
    buf_adds(b, ",\"class\":");
    jw_strz(b, e->cls);
    buf_adds(b, ",\"id\":");
    jw_int(b, e->id);
    buf_adds(b, ",\"operation\":");
    jw_strz(b, e->op);
    buf_adds(b, ",\"fields\":");
    buf_adds(b, e->fields); /* written by changelog_note: an array of registry names */
    buf_adds(b, ",\"at\":");
    at[value_format_datetime(e->at, at)] = 0;
    jw_strz(b, at);
    buf_adds(b, ",\"record\":");
    const struct class_def *k = registry_class(e->cls, strlen(e->cls));
    int rc = k ? records_render_live(fw->c, k, e->id, b) : 0;
    if (rc < 0) {
        fw->failed = 1;
        return 1;
    }
    if (rc == 0)
        buf_adds(b, "null,\"deleted\":true");
    buf_addc(b, '}');
    fw->last = e->seq;
    return 0;
}

/* An integer parameter in [lo, hi], or def when absent; -1 when it is something else. */
static int64_t int_param(struct ctx *c, const char *name, int64_t def, int64_t lo, int64_t hi)
{
    const char *s = params_str(c->params, name);
    json_t *v = json_object_get(c->params, name);
    int64_t n;
    if (!v)
        return def;
    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (!s || value_parse_int(s, strlen(s), &n) != 0)
        return -1;
    return n >= lo && n <= hi ? n : -1;
}

int feed_changes(struct ctx *c)
{
    struct store_conn *db = c->w->db;
    int64_t since = int_param(c, "since", 0, 0, INT64_MAX);
    int64_t limit = int_param(c, "limit", FEED_LIMIT_DEFAULT, 1, FEED_LIMIT_MAX);
    int64_t head, pruned;
    if (since < 0)
        return ctx_error(c, ERR_BAD_PARAM, NULL,
                         "since must be a cursor: 0, or a next_cursor this feed gave");
    if (limit < 0)
        return ctx_error(c, ERR_BAD_PARAM, NULL, "limit must be an integer from 1 to %d",
                         FEED_LIMIT_MAX);
    if (changelog_bounds(db, &head, &pruned) != 0)
        return ctx_error(c, ERR_INTERNAL, NULL, "internal error");
    if (since < pruned)
        return ctx_error(c, ERR_CURSOR_GONE, NULL,
                         "cursor %lld is older than the change log keeps (changes up to %lld "
                         "were dropped after the site's change_retention_days): copy the "
                         "records again, then follow the feed from since=%lld",
                         (long long)since, (long long)pruned, (long long)head);
    if (since > head)
        return ctx_error(c, ERR_CURSOR_GONE, NULL,
                         "cursor %lld is past the newest change (%lld): the site was restored "
                         "from an older copy; copy the records again, then follow the feed from "
                         "since=%lld",
                         (long long)since, (long long)head, (long long)head);
    struct feed_walk fw = {.c = c, .first = 1, .last = since};
    buf_init(&fw.body);
    if (changelog_read(db, since, (int)limit, one_change, &fw) < 0 && !fw.failed)
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
    else if (!fw.failed) {
        c->out.len = 0;
        buf_adds(&c->out, "{\"changes\":[");
        if (fw.body.len)
            buf_add(&c->out, fw.body.s, fw.body.len);
        buf_adds(&c->out, "],\"next_cursor\":");
        jw_int(&c->out, fw.last);
        buf_adds(&c->out, ",\"head\":");
        jw_int(&c->out, head > fw.last ? head : fw.last);
        buf_adds(&c->out, ",\"has_more\":");
        buf_adds(&c->out, fw.last < head ? "true" : "false");
        buf_addc(&c->out, '}');
        /* Sent once what it shows is durable: parked behind the next flush on the loop
         * (everything this read saw committed before it), flushed here on a lane. */
        if (c->job)
            store_durable_flush(store_of(db));
        else
            c->durable = 1;
        ctx_send(c, 200, "application/json; charset=utf-8");
    }
    buf_release(&fw.body);
    return 0;
}
