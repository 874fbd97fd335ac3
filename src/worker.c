/* A worker's lifetime (worker.h): its store connection and statement cache, the site
 * settings it re-reads, the progress callback that stops a statement at the request's
 * deadline or moves a read to the slow lane, and the slow lane's own workers. What a
 * request does with a worker is the pipeline's (api.c). */
#include "worker.h"
#include "countcache.h"
#include "dynattr.h"
#include "filtercache.h"
#include "settings.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct server_opts *lane_opts; /* the lane's workers open what the loops do */

void worker_lane_opts(const struct server_opts *o)
{
    lane_opts = o;
}

/* ---- prepared statement cache ---- */

/* Set-associative: a statement may live in any of STMT_WAYS slots of its set, and a miss
 * replaces the least recently used idle one. (Direct-mapped, two statements of one write
 * that shared a slot evicted each other on every request, re-preparing an INSERT and
 * its triggers each time.) */
struct store_stmt *stmt_get(struct worker *w, const char *sql, size_t len)
{
    return store_cached(w->db, sql, len);
}

void worker_site_load(struct worker *w)
{
    char v[64];
    settings_get(w->db, "error_status", v, sizeof v);
    w->site.error_http = strcmp(v, "http") == 0;
    settings_get(w->db, "site_status", v, sizeof v);
    w->site.suspended = strcmp(v, "suspended") == 0;
    w->site.token_lifetime = settings_int(w->db, "token_lifetime");
    w->site.query_limit_us = settings_int(w->db, "query_time_limit") * 1000;
    static const char *const rl_keys[3] = {"rate_limit.index", "rate_limit.get",
                                           "rate_limit.write"};
    for (int i = 0; i < 3; i++) {
        long long n = settings_int(w->db, rl_keys[i]);
        w->site.rate_limit[i] = n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    }
    settings_get(w->db, "require_if_match", w->site.require_if_match,
                 sizeof w->site.require_if_match);
    if (strcmp(w->site.require_if_match, "none") == 0)
        w->site.require_if_match[0] = 0;
    w->site.loaded_at = now_usec();
}

/* The engine calls this every few thousand steps of a statement: a read past its deadline
 * stops (its statement returns STORE_INTERRUPT), and ctx_send answers the time limit. */
static int on_progress(void *arg)
{
    struct worker *w = arg;
    if (!w->deadline && !w->slice_until)
        return 0;
    int64_t now = now_usec();
    if (w->deadline && now >= w->deadline) {
        w->timed_out = 1;
        return 1;
    }
    if (w->slice_until && now >= w->slice_until) {
        w->moved = 1; /* the loop's share is spent: finish on the slow lane (slowlane.h) */
        return 1;
    }
    return 0;
}

int worker_init(struct worker *w, int id, const struct server_opts *o, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->opts = o;
    const char *lazy = getenv("GRANTD_LAZY_READS");
    w->lazy_reads = lazy && strcmp(lazy, "1") == 0;
    w->db = store_connect(o->store, err, errlen);
    if (!w->db)
        return -1;
    store_set_progress(w->db, on_progress, w);
    worker_site_load(w);
    return 0;
}

void worker_release(struct worker *w)
{
    if (w->db)
        store_conn_close(w->db);
    memset(w, 0, sizeof *w);
}

/* ---- the slow lane's workers (slowlane.h) ---- */

int api_lane_worker_init(struct worker *w, int id)
{
    char err[256];
    if (worker_init(w, id, lane_opts, err, sizeof err) != 0) {
        fprintf(stderr, "grantd: slow lane: %s\n", err);
        return -1;
    }
    w->lane = 1;
    return 0;
}

void api_lane_interrupt(struct worker *w)
{
    if (w->db)
        store_interrupt(w->db); /* thread-safe */
}

void api_lane_thread_end(struct worker *w)
{
    (void)w;
    dyn_release_thread();
    countcache_release_thread();
    filtercache_release_thread();
}
