/* The sliding-window rate limiter and source-address helpers (ratelimit.h). Keys live in a
 * lock-striped hash table: each stripe has its own mutex, chained buckets and an LRU list,
 * so a decision (advance the ring, compare, count) happens under exactly one lock and two
 * threads can never both take the last slot. Keys are hashed with SipHash under a random
 * per-instance key, since addresses are chosen by whoever connects. Idle keys (nothing in
 * the last 61 s) are dropped from the LRU tail, a couple per call, so memory follows load. */
#include "ratelimit.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES_MAX 64
#define EVICT_PER_CALL 2

struct tier {
    int64_t head;   /* latest second counted in c[] */
    int64_t oldest; /* every bucket of the window older than this one is 0 */
    uint32_t sum;   /* sum of c[] */
    uint32_t c[RATELIMIT_BUCKETS];
};

struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU list, most recently used first */
    uint64_t hash;
    struct ratelimit_key key;
    int64_t touched; /* latest second this key was counted or refused */
    struct tier t[RATELIMIT_TIERS];
};

struct stripe {
    pthread_mutex_t lock;
    struct entry **table;
    size_t mask; /* table size - 1 */
    struct entry *head, *tail;
    size_t count, cap;
};

/* Padded so that two stripes' locks do not share a cache line. */
union stripe_slot {
    struct stripe s;
    char pad[128];
};

struct ratelimit {
    int strict;
    size_t nstripes; /* power of two */
    int shift;       /* log2(nstripes): the hash bits above it pick the chain */
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    union stripe_slot *stripes;
};

/* ---- the ring of one tier ---- */

static size_t slot_of(int64_t sec)
{
    int64_t m = sec % RATELIMIT_BUCKETS;
    return (size_t)(m < 0 ? m + RATELIMIT_BUCKETS : m);
}

/* Move the ring forward to second s, dropping buckets that left the window. */
static void tier_advance(struct tier *t, int64_t s)
{
    if (s <= t->head)
        return;
    if (s - t->head >= RATELIMIT_BUCKETS) {
        memset(t->c, 0, sizeof t->c);
        t->sum = 0;
        t->oldest = s;
    } else {
        for (int64_t x = t->head + 1; x <= s; x++) {
            size_t i = slot_of(x);
            t->sum -= t->c[i];
            t->c[i] = 0;
        }
    }
    t->head = s;
}

/* Seconds from second s until the window holds fewer than `limit` requests (when it is
 * full) or until its count next drops (when it is not): the oldest buckets leave first,
 * bucket o at the start of second o + 61. 0 when nothing is counted. The scan starts at
 * `oldest` and moves it past empty buckets, so over time each second is skipped once and a
 * call costs O(1) amortised (O(61) at worst, when a lowered limit must wait for several). */
static uint32_t tier_reset(struct tier *t, int64_t s, uint32_t limit)
{
    uint32_t need = t->sum >= limit ? t->sum - limit + 1 : 1;
    uint32_t cum = 0;
    int64_t o = t->oldest > s - RATELIMIT_WINDOW ? t->oldest : s - RATELIMIT_WINDOW;
    size_t i = slot_of(o);
    if (t->sum == 0)
        return 0;
    for (; o <= s; o++) {
        if (cum == 0 && t->c[i] == 0)
            t->oldest = o + 1;
        cum += t->c[i];
        if (cum >= need)
            return (uint32_t)(o + RATELIMIT_BUCKETS - s);
        i = i + 1 == RATELIMIT_BUCKETS ? 0 : i + 1;
    }
    return RATELIMIT_BUCKETS; /* only when limit is 0 */
}

/* Decide at second s; counts the request when `take` and there is room. */
static void tier_decide(struct tier *t, int64_t s, uint32_t limit, int take,
                        struct ratelimit_answer *a)
{
    if (s < t->head)
        s = t->head; /* another thread read the clock later and counted first */
    tier_advance(t, s);
    a->limit = limit;
    a->admitted = t->sum < limit;
    if (a->admitted && take) {
        t->c[slot_of(s)]++;
        t->sum++;
    }
    a->remaining = t->sum < limit ? limit - t->sum : 0;
    a->reset = tier_reset(t, s, limit);
}

/* ---- the table ---- */

static uint64_t key_hash(const struct ratelimit *rl, const struct ratelimit_key *k)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, k->b, sizeof k->b, rl->hkey);
    memcpy(&h, out, sizeof h);
    return h;
}

static struct stripe *stripe_of(struct ratelimit *rl, uint64_t h)
{
    return &rl->stripes[h & (rl->nstripes - 1)].s;
}

static struct entry **chain_of(struct ratelimit *rl, struct stripe *st, uint64_t h)
{
    return &st->table[(h >> rl->shift) & st->mask];
}

static void lru_unlink(struct stripe *st, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        st->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        st->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct stripe *st, struct entry *e)
{
    e->prev = NULL;
    e->next = st->head;
    if (st->head)
        st->head->prev = e;
    st->head = e;
    if (!st->tail)
        st->tail = e;
}

static void entry_remove(struct ratelimit *rl, struct stripe *st, struct entry *e)
{
    struct entry **pp = chain_of(rl, st, e->hash);
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(st, e);
    st->count--;
    free(e);
}

/* A key untouched for RATELIMIT_BUCKETS seconds has nothing left in any window: forgetting
 * it changes no future decision. */
static int entry_idle(const struct entry *e, int64_t s)
{
    return s - e->touched >= RATELIMIT_BUCKETS;
}

static void evict_idle(struct ratelimit *rl, struct stripe *st, int64_t s, int max)
{
    for (int i = 0; i < max && st->tail && entry_idle(st->tail, s); i++)
        entry_remove(rl, st, st->tail);
}

static struct entry *entry_find(struct ratelimit *rl, struct stripe *st, uint64_t h,
                                const struct ratelimit_key *k)
{
    for (struct entry *e = *chain_of(rl, st, h); e; e = e->hnext)
        if (e->hash == h && memcmp(e->key.b, k->b, sizeof k->b) == 0)
            return e;
    return NULL;
}

/* A new key, or NULL when the stripe is full of active keys and the instance is strict. */
static struct entry *entry_add(struct ratelimit *rl, struct stripe *st, uint64_t h,
                               const struct ratelimit_key *k, int64_t s)
{
    if (st->count >= st->cap) {
        if (rl->strict && !entry_idle(st->tail, s))
            return NULL;
        entry_remove(rl, st, st->tail);
    }
    struct entry *e = xcalloc(1, sizeof *e);
    struct entry **chain = chain_of(rl, st, h);
    e->hash = h;
    e->key = *k;
    e->touched = s;
    for (int i = 0; i < RATELIMIT_TIERS; i++)
        e->t[i].head = e->t[i].oldest = s;
    e->hnext = *chain;
    *chain = e;
    lru_push_front(st, e);
    st->count++;
    return e;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

struct ratelimit *ratelimit_new(size_t max_keys, int strict)
{
    struct ratelimit *rl = xcalloc(1, sizeof *rl);
    if (max_keys < 1)
        max_keys = 1;
    rl->strict = strict;
    rl->nstripes = STRIPES_MAX;
    while (rl->nstripes > max_keys)
        rl->nstripes >>= 1;
    while (((size_t)1 << rl->shift) < rl->nstripes)
        rl->shift++;
    if (sodium_init() < 0)
        abort();
    randombytes_buf(rl->hkey, sizeof rl->hkey);
    rl->stripes = xcalloc(rl->nstripes, sizeof *rl->stripes);
    for (size_t i = 0; i < rl->nstripes; i++) {
        struct stripe *st = &rl->stripes[i].s;
        pthread_mutex_init(&st->lock, NULL);
        st->cap = max_keys / rl->nstripes;
        st->mask = pow2_at_least(st->cap) - 1;
        st->table = xcalloc(st->mask + 1, sizeof *st->table);
    }
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->nstripes; i++) {
        struct stripe *st = &rl->stripes[i].s;
        struct entry *e = st->head;
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
        free(st->table);
        pthread_mutex_destroy(&st->lock);
    }
    free(rl->stripes);
    free(rl);
}

static int decide(struct ratelimit *rl, const struct ratelimit_key *key, int tier, uint32_t limit,
                  int64_t now_ms, int take, struct ratelimit_answer *a)
{
    int64_t s;
    uint64_t h;
    struct stripe *st;
    struct entry *e;

    memset(a, 0, sizeof *a);
    a->limit = limit;
    if (tier < 0 || tier >= RATELIMIT_TIERS)
        return -1;
    h = key_hash(rl, key);
    st = stripe_of(rl, h);
    pthread_mutex_lock(&st->lock);
    /* Read under the lock, the clock follows the order of decisions (docs/ratelimit.md). */
    if (now_ms == RATELIMIT_CLOCK)
        now_ms = now_usec() / 1000;
    s = now_ms >= 0 ? now_ms / 1000 : -((999 - now_ms) / 1000);
    evict_idle(rl, st, s, EVICT_PER_CALL);
    e = entry_find(rl, st, h, key);
    if (!e && !take) {
        a->admitted = limit > 0;
        a->remaining = limit;
        goto out;
    }
    if (!e)
        e = entry_add(rl, st, h, key, s);
    if (!e) {
        a->reset = 1; /* strict and full: every key here was active within 61 s */
        goto out;
    }
    tier_decide(&e->t[tier], s, limit, take, a);
    if (take && s > e->touched) {
        /* The list stays ordered by `touched` (with RATELIMIT_CLOCK exactly; with a clock
         * read outside, give or take how far apart the callers read it), so the tail is
         * the key idle longest; relinking once per key and second is enough. */
        e->touched = s;
        lru_unlink(st, e);
        lru_push_front(st, e);
    }
out:
    pthread_mutex_unlock(&st->lock);
    return 0;
}

int ratelimit_take(struct ratelimit *rl, const struct ratelimit_key *key, int tier, uint32_t limit,
                   int64_t now_ms, struct ratelimit_answer *a)
{
    return decide(rl, key, tier, limit, now_ms, 1, a);
}

int ratelimit_peek(struct ratelimit *rl, const struct ratelimit_key *key, int tier, uint32_t limit,
                   int64_t now_ms, struct ratelimit_answer *a)
{
    return decide(rl, key, tier, limit, now_ms, 0, a);
}

size_t ratelimit_size(struct ratelimit *rl)
{
    size_t n = 0;
    for (size_t i = 0; i < rl->nstripes; i++) {
        struct stripe *st = &rl->stripes[i].s;
        pthread_mutex_lock(&st->lock);
        n += st->count;
        pthread_mutex_unlock(&st->lock);
    }
    return n;
}

void ratelimit_key_client(struct ratelimit_key *k, int64_t client_pk)
{
    memset(k, 0, sizeof *k);
    k->b[0] = 'c';
    memcpy(k->b + 8, &client_pk, sizeof client_pk);
}

/* ---- addresses ---- */

static const unsigned char v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int is_v4(const struct ratelimit_addr *a)
{
    return memcmp(a->b, v4_prefix, sizeof v4_prefix) == 0;
}

void ratelimit_key_addr(struct ratelimit_key *k, const struct ratelimit_addr *a)
{
    memcpy(k->b, a->b, sizeof k->b);
    if (!is_v4(a))
        memset(k->b + 8, 0, 8);
}

int ratelimit_addr_from_sockaddr(struct ratelimit_addr *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(a->b, v4_prefix, sizeof v4_prefix);
        memcpy(a->b + 12, &s4->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(a->b, &s6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static size_t count_char(const char *s, size_t n, char ch)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == ch;
    return k;
}

int ratelimit_addr_parse(struct ratelimit_addr *a, const char *s, size_t n)
{
    char tmp[64];
    unsigned char v4[4];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof tmp)
        return -1;
    if (s[0] == '[') { /* [v6] or [v6]:port */
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        n = (size_t)(close - s) - 1;
        s++;
    } else if (memchr(s, '.', n) && count_char(s, n, ':') == 1) {
        n = (size_t)((const char *)memchr(s, ':', n) - s); /* a.b.c.d:port */
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, tmp, v4) == 1) {
        memcpy(a->b, v4_prefix, sizeof v4_prefix);
        memcpy(a->b + 12, v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, tmp, a->b) == 1 ? 0 : -1;
}

void ratelimit_addr_format(const struct ratelimit_addr *a, char *out, size_t outlen)
{
    char tmp[INET6_ADDRSTRLEN];
    if (is_v4(a))
        inet_ntop(AF_INET, a->b + 12, tmp, sizeof tmp);
    else
        inet_ntop(AF_INET6, a->b, tmp, sizeof tmp);
    snprintf(out, outlen, "%s", tmp);
}

static int prefix_match(const unsigned char *x, const unsigned char *y, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(x, y, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char m = (unsigned char)(0xff << (8 - rest));
    return (x[full] & m) == (y[full] & m);
}

static int cidr_parse_one(struct ratelimit_cidrs *c, const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    struct ratelimit_addr a;
    int bits;
    if (c->n >= RATELIMIT_MAX_CIDRS || ratelimit_addr_parse(&a, s, alen) != 0)
        return -1;
    /* the parser accepts ports and brackets for X-Forwarded-For; a range wants neither */
    int v6text = memchr(s, ':', alen) != NULL;
    if (memchr(s, '[', alen) || (memchr(s, '.', alen) && count_char(s, alen, ':') == 1))
        return -1;
    int max = v6text ? 128 : 32;
    if (!slash) {
        bits = max;
    } else {
        char num[8];
        size_t nl = n - alen - 1;
        char *end;
        if (nl == 0 || nl >= sizeof num)
            return -1;
        memcpy(num, slash + 1, nl);
        num[nl] = 0;
        long v = strtol(num, &end, 10);
        if (*end || v < 0 || v > max || num[0] < '0' || num[0] > '9')
            return -1;
        bits = (int)v;
    }
    c->c[c->n].net = a;
    c->c[c->n].bits = v6text ? bits : 96 + bits;
    c->n++;
    return 0;
}

int ratelimit_cidrs_parse(struct ratelimit_cidrs *c, const char *spec)
{
    const char *p = spec;
    memset(c, 0, sizeof *c);
    if (!spec || !*spec)
        return -1;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (cidr_parse_one(c, p, n) != 0)
            return -1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int ratelimit_cidrs_match(const struct ratelimit_cidrs *c, const struct ratelimit_addr *a)
{
    for (int i = 0; c && i < c->n; i++)
        if (prefix_match(a->b, c->c[i].net.b, c->c[i].bits))
            return 1;
    return 0;
}

void ratelimit_client_addr(const struct ratelimit_cidrs *trusted, const struct ratelimit_addr *peer,
                           const char *const *vals, const size_t *lens, size_t n,
                           struct ratelimit_addr *out)
{
    *out = *peer;
    if (!ratelimit_cidrs_match(trusted, peer))
        return;
    /* Right to left: each trusted hop vouches for the address to its left. */
    for (size_t i = n; i-- > 0;) {
        const char *v = vals[i];
        size_t end = lens[i];
        while (end > 0) {
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            struct ratelimit_addr hop;
            if (ratelimit_addr_parse(&hop, v + start, end - start) != 0)
                return;
            *out = hop;
            if (!ratelimit_cidrs_match(trusted, &hop))
                return;
            end = start > 0 ? start - 1 : 0;
        }
    }
}
