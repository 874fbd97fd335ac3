/* Exact per-thread cache of list counts: see countcache.h. */
#include "countcache.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

enum { SLOTS = 256, MAX_KEY = 4096 };

struct slot {
    char *key;
    size_t len;
    struct count_stamp stamp;
    long long n;
};

static __thread struct slot slots[SLOTS];

int countcache_stamp(struct store_conn *db, struct count_stamp *out)
{
    out->version = store_stamp(db);
    out->changes = store_own_changes(db);
    return out->version < 0 ? -1 : 0;
}

/* The key: SQL text, then each value as a type byte and its bytes. */
static size_t make_key(const struct sql *q, char *k, size_t cap)
{
    size_t n = 0;
#define PUT(p, l)                                                                                  \
    do {                                                                                           \
        if (n + (l) > cap)                                                                         \
            return 0;                                                                              \
        memcpy(k + n, (p), (l));                                                                   \
        n += (l);                                                                                  \
    } while (0)
    PUT(q->buf, q->len + 1);
    for (int i = 0; i < q->nargs; i++) {
        const struct sqlv *a = &q->args[i];
        char t = (char)a->t;
        PUT(&t, 1);
        if (a->t == SQLV_INT || a->t == SQLV_TEXT)
            PUT(&a->i, sizeof a->i);
        if (a->t == SQLV_REAL)
            PUT(&a->d, sizeof a->d);
        if (a->t == SQLV_TEXT)
            PUT(a->s, (size_t)a->i);
    }
#undef PUT
    return n;
}

static int same_stamp(const struct count_stamp *a, const struct count_stamp *b)
{
    return a->version == b->version && a->changes == b->changes;
}

int countcache_get(const struct sql *q, const struct count_stamp *s, long long *out)
{
    char k[MAX_KEY];
    size_t n = s->version < 0 ? 0 : make_key(q, k, sizeof k);
    if (!n)
        return 0;
    struct slot *e = &slots[hash_bytes(k, n) % SLOTS];
    if (!e->key || e->len != n || !same_stamp(&e->stamp, s) || memcmp(e->key, k, n) != 0)
        return 0;
    *out = e->n;
    return 1;
}

void countcache_put(const struct sql *q, const struct count_stamp *s, long long v)
{
    char k[MAX_KEY];
    size_t n = s->version < 0 ? 0 : make_key(q, k, sizeof k);
    if (!n)
        return;
    struct slot *e = &slots[hash_bytes(k, n) % SLOTS];
    if (e->len != n) {
        free(e->key);
        e->key = xmalloc(n);
        e->len = n;
    }
    memcpy(e->key, k, n);
    e->stamp = *s;
    e->n = v;
}

void countcache_release_thread(void)
{
    for (int i = 0; i < SLOTS; i++) {
        free(slots[i].key);
        slots[i].key = NULL;
        slots[i].len = 0;
    }
}
