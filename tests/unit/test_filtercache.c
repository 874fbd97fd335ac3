/* Unit tests for the compiled-filter cache (src/filtercache.c), for the piece copy it is
 * served through (sql_append_sql) and for the compiler's report that a filter read the
 * clock (filter_env.used_now), which decides what may be cached. */
#include "filter.h"
#include "filtercache.h"
#include "registry.h"
#include "sql.h"
#include "unit.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static struct sql piece(const char *text, long long v, const char *s)
{
    struct sql q;
    sql_init(&q);
    sql_append(&q, text);
    sql_bind_int(&q, v);
    sql_append(&q, " AND b = ");
    sql_bind_text(&q, s, strlen(s));
    sql_append(&q, ")");
    return q;
}

static int used_now(const struct class_def *k, const char *filter)
{
    json_error_t je;
    json_t *j = json_loads(filter, 0, &je);
    int used = 0;
    char err[256];
    struct sql q;
    sql_init(&q);
    struct filter_env env = {.now = 1700000000, .week_start = 1, .fiscal_start = 1};
    env.used_now = &used;
    int rc = filter_compile(k, j, "t", &env, &q, err, sizeof err);
    json_decref(j);
    sql_release(&q);
    return rc == 0 ? used : -1;
}

int main(void)
{
    const struct class_def *gr = registry_class("grant_request", 13);
    const struct class_def *org = registry_class("organization", 12);
    CHECK(gr && org);
    if (!gr || !org)
        return unit_done();

    /* hash_bytes (util.h), the caches' hash: every byte and the length count */
    {
        unsigned char a[40] = {0}, b2[40] = {0};
        int distinct = 1;
        uint64_t seen[41];
        for (size_t len = 0; len <= 40; len++) { /* zero bytes: only the length differs */
            seen[len] = hash_bytes(a, len);
            for (size_t j = 0; j < len; j++)
                distinct &= seen[j] != seen[len];
        }
        CHECK(distinct);
        for (size_t i = 0; i < sizeof a; i++) { /* one bit anywhere changes the hash */
            b2[i] = 1;
            CHECK(hash_bytes(a, sizeof a) != hash_bytes(b2, sizeof b2));
            CHECK(hash_bytes(b2, sizeof b2) == hash_bytes(b2, sizeof b2));
            b2[i] = 0;
        }
    }

    /* sql_append_sql: text once, values in order, copies that outlive the piece */
    struct sql w, p = piece("(a = ", 7, "x'y");
    sql_init(&w);
    sql_append(&w, "SELECT 1 WHERE z = ");
    sql_bind_int(&w, 1);
    sql_append(&w, " AND ");
    sql_append_sql(&w, &p);
    sql_release(&p);
    CHECK_STR(w.buf, "SELECT 1 WHERE z = ? AND (a = ? AND b = ?)");
    CHECK(w.nargs == 3 && w.args[0].i == 1 && w.args[1].t == SQLV_INT && w.args[1].i == 7);
    CHECK(w.args[2].t == SQLV_TEXT && strcmp(w.args[2].s, "x'y") == 0 && w.args[2].i == 3);
    sql_release(&w);

    /* get/put under the whole key */
    struct filter_env e1 = {.week_start = 1, .fiscal_start = 1}, e2 = e1, e3 = e1;
    e2.week_start = 7;
    e3.fiscal_start = 7;
    const char *f = "[\"state\",\"eq\",\"granted\"]";
    size_t n = strlen(f);
    CHECK(filtercache_get(gr, f, n, &e1, 1) == NULL);
    p = piece("(a = ", 1, "one");
    filtercache_put(gr, f, n, &e1, 1, &p);
    CHECK(p.buf == NULL && p.nargs == 0); /* taken over */
    const struct sql *hit = filtercache_get(gr, f, n, &e1, 1);
    CHECK(hit && strcmp(hit->buf, "(a = ? AND b = ?)") == 0 && hit->args[0].i == 1);
    CHECK(filtercache_get(org, f, n, &e1, 1) == NULL);    /* another class */
    CHECK(filtercache_get(gr, f, n, &e2, 1) == NULL);     /* another week start */
    CHECK(filtercache_get(gr, f, n, &e3, 1) == NULL);     /* another fiscal year */
    CHECK(filtercache_get(gr, f, n, &e1, 2) == NULL);     /* site-defined fields changed */
    CHECK(filtercache_get(gr, f, n - 1, &e1, 1) == NULL); /* another text */
    CHECK(filtercache_get(gr, "[\"state\",\"eq\",\"grantex\"]", n, &e1, 1) == NULL);

    /* 64 entries, least recently used out; texts over 4 KiB never kept */
    char key[64];
    for (int i = 0; i < 100; i++) {
        int k = snprintf(key, sizeof key, "[\"id\",\"eq\",%d]", i);
        p = piece("(a = ", i, "v");
        filtercache_put(gr, key, (size_t)k, &e1, 1, &p);
        CHECK(filtercache_get(gr, f, n, &e1, 1) != NULL); /* in constant use: stays */
    }
    int kept = 0;
    for (int i = 0; i < 100; i++) {
        int k = snprintf(key, sizeof key, "[\"id\",\"eq\",%d]", i);
        const struct sql *h = filtercache_get(gr, key, (size_t)k, &e1, 1);
        kept += h != NULL;
        if (h)
            CHECK(h->args[0].i == i && i >= 100 - 63);
    }
    CHECK(kept == 63);
    static char big[5000];
    memset(big, ' ', sizeof big - 1);
    p = piece("(a = ", 1, "big");
    filtercache_put(gr, big, sizeof big - 1, &e1, 1, &p);
    CHECK(p.buf == NULL && filtercache_get(gr, big, sizeof big - 1, &e1, 1) == NULL);
    filtercache_release_thread();
    CHECK(filtercache_get(gr, f, n, &e1, 1) == NULL);

    /* The compiler says when its output depends on today */
    CHECK(used_now(gr, "[\"state\",\"eq\",\"granted\"]") == 0);
    CHECK(used_now(gr, "[\"updated_at\",\"range\",\"2024-01-07 - 2026-11-22\"]") == 0);
    CHECK(used_now(gr, "[\"updated_at\",\"today\",\"-\"]") == 1);
    CHECK(used_now(gr, "[\"updated_at\",\"last-n-days\",3]") == 1);
    CHECK(used_now(gr, "{\"group_type\":\"or\",\"conditions\":[[\"state\",\"eq\",\"x\"],"
                       "[\"updated_at\",\"this-fiscal-quarter\",\"-\"]]}") == 1);
    return unit_done();
}
