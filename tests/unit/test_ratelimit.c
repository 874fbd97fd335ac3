/* Unit tests for the rate limiter (ratelimit.h), driven by an injected millisecond clock:
 * boundaries, when a slot frees, the sliding window against a brute-force model, tier and
 * key independence, eviction, threads racing for the last slots, and the source-address
 * helpers (parsing, CIDR lists, X-Forwarded-For behind trusted proxies). */
#include "ratelimit.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static struct ratelimit_key client(int64_t pk)
{
    struct ratelimit_key k;
    ratelimit_key_client(&k, pk);
    return k;
}

static int take(struct ratelimit *rl, int64_t pk, int tier, uint32_t limit, int64_t ms,
                struct ratelimit_answer *a)
{
    struct ratelimit_key k = client(pk);
    struct ratelimit_answer tmp;
    if (!a)
        a = &tmp;
    ratelimit_take(rl, &k, tier, limit, ms, a);
    return a->admitted;
}

/* The limit-th request is admitted, the next refused; headers' numbers follow the count. */
static void test_boundaries(void)
{
    struct ratelimit *rl = ratelimit_new(1024, 1);
    struct ratelimit_answer a;
    int ok = 1;
    for (uint32_t i = 1; i <= 60; i++) {
        take(rl, 1, 2, 60, 10000 + i, &a);
        ok &= a.admitted && a.limit == 60 && a.remaining == 60 - i && a.reset == 61;
    }
    CHECK(ok);
    CHECK(!take(rl, 1, 2, 60, 10100, &a));
    CHECK(a.remaining == 0 && a.reset == 61 && a.limit == 60);
    /* refusals count nothing: hammering while refused does not push the slot back */
    for (int i = 0; i < 1000; i++)
        take(rl, 1, 2, 60, 20000 + i * 40, NULL);
    CHECK(!take(rl, 1, 2, 60, 70999, &a));
    CHECK(a.reset == 1);
    CHECK(take(rl, 1, 2, 60, 71000, &a));
    /* 60 left the window at once, one came back in: 59 remain after this one */
    CHECK(a.remaining == 59);
    ratelimit_free(rl);
}

/* A slot frees within 1 s after the oldest request leaves the window (x + 60 s), never
 * before; Retry-After (reset) is never early and at most 1 s late. */
static void test_slot_frees(void)
{
    static const int offs[] = {0, 1, 250, 500, 999};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        struct ratelimit *rl = ratelimit_new(16, 1);
        struct ratelimit_answer a;
        int64_t x = 5000000 + offs[k];
        for (int i = 0; i < 10; i++)
            take(rl, 7, 0, 10, x + i * 100, NULL);
        int64_t freed = -1;
        int early = 0, retry_ok = 1;
        for (int64_t t = x + 1000; t <= x + 62000; t += 1) {
            if (take(rl, 7, 0, 10, t, &a)) {
                freed = t;
                break;
            }
            if (t < x + 60000 && a.reset == 0)
                early = 1;
            /* Retry-After: waiting reset seconds from t lands on or after the free time */
            int64_t free_at = (x / 1000) * 1000 + 61000;
            if (t + (int64_t)a.reset * 1000 < free_at ||
                t + (int64_t)a.reset * 1000 > free_at + 1000)
                retry_ok = 0;
        }
        CHECK(freed >= x + 60000);
        CHECK(freed <= x + 61000);
        CHECK(!early);
        CHECK(retry_ok);
        ratelimit_free(rl);
    }
}

/* What remaining and reset must be at time t (after the decision), from the admitted list. */
static void model_answer(const int64_t *adm, int na, int64_t t, uint32_t limit, uint32_t *rem,
                         uint32_t *reset)
{
    int64_t s = t / 1000;
    uint32_t per[RATELIMIT_BUCKETS] = {0}, sum = 0, need, cum = 0;
    for (int j = na - 1; j >= 0 && adm[j] / 1000 >= s - 60; j--) {
        per[adm[j] / 1000 - (s - 60)]++;
        sum++;
    }
    *rem = sum < limit ? limit - sum : 0;
    *reset = 0;
    if (sum == 0)
        return;
    need = sum >= limit ? sum - limit + 1 : 1;
    for (int k = 0; k < RATELIMIT_BUCKETS; k++) {
        cum += per[k];
        if (cum >= need) {
            *reset = (uint32_t)k + 1;
            return;
        }
    }
    *reset = RATELIMIT_BUCKETS;
}

/* A brute-force model: random arrivals over several minutes. No 60 s window ever holds more
 * than the limit, a refusal only happens when the last 61 s already hold the limit, and
 * remaining and reset are what the admitted list says. In the last runs the limit changes
 * (up and down) every 2000 requests. */
static void test_sliding_model(void)
{
    enum { N = 20000 };
    static int64_t admitted[N];
    for (int run = 0; run < 6; run++) {
        struct ratelimit *rl = ratelimit_new(16, 1);
        uint32_t limit = (uint32_t)(5 + run * 20);
        int64_t t = 1000000;
        int na = 0, over = 0, early = 0, wrong = 0, varying = run >= 4;
        srand(42 + run);
        for (int i = 0; i < N; i++) {
            /* bursts and lulls */
            t += (rand() % 100 < 90) ? rand() % 50 : rand() % 20000;
            if (varying && i % 2000 == 0)
                limit = (uint32_t)(1 + rand() % 80);
            struct ratelimit_answer a;
            uint32_t rem, reset;
            int ok = take(rl, 3, 1, limit, t, &a);
            if (ok)
                admitted[na++] = t;
            model_answer(admitted, na, t, limit, &rem, &reset);
            if (a.remaining != rem || a.reset != reset || a.limit != limit) {
                if (!wrong)
                    fprintf(stderr, "  run %d at %lld: got r=%u t=%u, want r=%u t=%u\n", run,
                            (long long)t, a.remaining, a.reset, rem, reset);
                wrong = 1;
            }
            if (varying)
                continue;
            /* admitted in [t - 59999, t]: every 60 s window ending here */
            int c = 0;
            for (int j = na - 1; j >= 0 && admitted[j] > t - (ok ? 60000 : 61000); j--)
                c++;
            if (ok && (uint32_t)c > limit)
                over = 1;
            if (!ok && (uint32_t)c < limit)
                early = 1;
        }
        CHECK(!over);
        CHECK(!early);
        CHECK(!wrong);
        CHECK(na > (int)limit); /* the test exercised the window */
        ratelimit_free(rl);
    }
}

/* The window slides one second at a time: requests leave in the order they came. */
static void test_sliding_steps(void)
{
    struct ratelimit *rl = ratelimit_new(16, 1);
    struct ratelimit_answer a;
    /* 3 requests in each of seconds 0..9 (30 = the limit) */
    for (int s = 0; s < 10; s++)
        for (int i = 0; i < 3; i++)
            take(rl, 9, 0, 30, s * 1000 + 100 * i, NULL);
    CHECK(!take(rl, 9, 0, 30, 40000, &a));
    CHECK(a.reset == 21); /* second 0 leaves at 61 */
    CHECK(!take(rl, 9, 0, 30, 60999, &a));
    for (int s = 61; s < 71; s++) {
        int got = 0;
        while (take(rl, 9, 0, 30, s * 1000 + 500, NULL))
            got++;
        CHECK(got == 3);
    }
    /* a limit lowered below the count: reset waits for enough to leave */
    ratelimit_free(rl);
    rl = ratelimit_new(16, 1);
    for (int s = 0; s < 10; s++)
        for (int i = 0; i < 10; i++)
            take(rl, 9, 0, 100, s * 1000, NULL);
    CHECK(!take(rl, 9, 0, 50, 20000, &a));
    CHECK(a.remaining == 0 && a.limit == 50);
    CHECK(a.reset == 46); /* seconds 0..5 (60 requests) must leave: at 66 */
    CHECK(!take(rl, 9, 0, 50, 65999, &a));
    CHECK(take(rl, 9, 0, 50, 66000, &a));
    CHECK(a.remaining == 9); /* 40 counted + this one */
    /* raised again: room at once */
    CHECK(take(rl, 9, 0, 1000, 66001, &a) && a.remaining == 1000 - 42);
    /* a clock read a little earlier by another thread is counted in the latest second */
    CHECK(take(rl, 9, 0, 1000, 65000, &a));
    CHECK(take(rl, 9, 0, 1000, 126000, &a) && a.remaining == 1000 - 4); /* 3 in second 66 */
    CHECK(take(rl, 9, 0, 1000, 127000, &a) && a.remaining == 1000 - 2);
    ratelimit_free(rl);
}

static void test_independent(void)
{
    struct ratelimit *rl = ratelimit_new(1024, 1);
    struct ratelimit_answer a;
    int n = 0;
    while (take(rl, 1, 2, 60, 1000, NULL))
        n++;
    CHECK(n == 60);
    CHECK(take(rl, 1, 0, 1500, 1000, &a) && a.remaining == 1499); /* index */
    CHECK(take(rl, 1, 1, 180, 1000, &a) && a.remaining == 179);   /* get */
    CHECK(take(rl, 2, 2, 60, 1000, &a) && a.remaining == 59);     /* another client */
    CHECK(!take(rl, 1, 2, 60, 1000, NULL));
    n = 0;
    while (take(rl, 1, 1, 180, 2000, NULL))
        n++;
    CHECK(n == 179);
    CHECK(take(rl, 1, 0, 1500, 2000, &a) && a.remaining == 1498);
    /* a bad tier is refused, never counted */
    struct ratelimit_key k = client(1);
    CHECK(ratelimit_take(rl, &k, RATELIMIT_TIERS, 10, 1000, &a) == -1 && !a.admitted);
    CHECK(ratelimit_take(rl, &k, -1, 10, 1000, &a) == -1 && !a.admitted);
    ratelimit_free(rl);
}

static void test_peek(void)
{
    struct ratelimit *rl = ratelimit_new(64, 0);
    struct ratelimit_answer a;
    struct ratelimit_key k = client(5);
    ratelimit_peek(rl, &k, 1, 3, 0, &a);
    CHECK(a.admitted && a.remaining == 3 && a.reset == 0);
    CHECK(ratelimit_size(rl) == 0); /* a peek adds no key */
    for (int i = 0; i < 3; i++)
        take(rl, 5, 1, 3, 100, NULL);
    for (int i = 0; i < 10; i++)
        ratelimit_peek(rl, &k, 1, 3, 200, &a);
    CHECK(!a.admitted && a.remaining == 0 && a.reset == 61);
    ratelimit_peek(rl, &k, 0, 3, 200, &a); /* another tier of the same key */
    CHECK(a.admitted && a.remaining == 3);
    CHECK(ratelimit_size(rl) == 1);
    ratelimit_peek(rl, &k, 1, 3, 61000, &a);
    CHECK(a.admitted && a.remaining == 3);
    CHECK(ratelimit_size(rl) == 0); /* idle for 61 s: swept by the call */
    ratelimit_free(rl);
}

static void test_eviction(void)
{
    struct ratelimit_answer a;
    /* strict (clients): a full table refuses a new key while the old one is active... */
    struct ratelimit *rl = ratelimit_new(1, 1);
    CHECK(take(rl, 1, 0, 5, 0, NULL));
    CHECK(!take(rl, 2, 0, 5, 1000, &a) && a.reset == 1);
    CHECK(!take(rl, 2, 0, 5, 60999, &a));
    CHECK(ratelimit_size(rl) == 1);
    /* ...and takes it once the old key has been idle for 61 s */
    CHECK(take(rl, 2, 0, 5, 61000, &a) && a.remaining == 4);
    CHECK(ratelimit_size(rl) == 1);
    ratelimit_free(rl);

    /* LRU (addresses): a full table forgets its least recently used key */
    rl = ratelimit_new(1, 0);
    for (int i = 0; i < 5; i++)
        take(rl, 1, 0, 5, 0, NULL);
    CHECK(!take(rl, 1, 0, 5, 0, NULL));
    CHECK(take(rl, 2, 0, 5, 1000, NULL));
    CHECK(ratelimit_size(rl) == 1);
    CHECK(take(rl, 1, 0, 5, 2000, &a) && a.remaining == 4);
    ratelimit_free(rl);

    /* idle keys go without pressure: 300 new keys a minute for 20 minutes stay bounded */
    rl = ratelimit_new(1u << 14, 1);
    size_t peak = 0;
    int all_admitted = 1;
    for (int m = 0; m < 20; m++) {
        for (int i = 0; i < 300; i++)
            all_admitted &= take(rl, 100000 + m * 300 + i, 0, 5, (int64_t)m * 61000 + i, NULL);
        size_t n = ratelimit_size(rl);
        if (n > peak)
            peak = n;
    }
    CHECK(all_admitted);
    CHECK(peak <= 600);
    /* after a quiet spell, traffic on every stripe sweeps the idle keys out */
    for (int i = 0; i < 2000; i++)
        take(rl, 1000000 + i, 0, 5, 30 * 61000 + i, NULL);
    for (int i = 0; i < 2000; i++)
        take(rl, 1000000 + i, 0, 5, 30 * 61000 + 5000 + i, NULL);
    CHECK(ratelimit_size(rl) == 2000);
    ratelimit_free(rl);
}

struct race {
    struct ratelimit *rl;
    int64_t pk;
    int tries;
    int got;
};

static void *racer(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < r->tries; i++)
        r->got += take(r->rl, r->pk + (i % 4), 1, 180, 7000 + i / 100, NULL);
    return NULL;
}

static void *racer_clock(void *arg)
{
    struct race *r = arg;
    struct ratelimit_key k = client(r->pk);
    struct ratelimit_answer a;
    for (int i = 0; i < r->tries; i++) {
        ratelimit_take(r->rl, &k, 2, 500, RATELIMIT_CLOCK, &a);
        r->got += a.admitted;
    }
    return NULL;
}

/* The server's way: the limiter reads the monotonic clock itself, under the lock. */
static void test_real_clock(void)
{
    struct ratelimit *rl = ratelimit_new(1024, 1);
    struct ratelimit_key k = client(77);
    struct ratelimit_answer a;
    int ok = 1;
    for (uint32_t i = 1; i <= 5; i++) {
        ratelimit_take(rl, &k, 0, 5, RATELIMIT_CLOCK, &a);
        ok &= a.admitted && a.remaining == 5 - i && a.reset >= 60 && a.reset <= 61;
    }
    CHECK(ok);
    ratelimit_take(rl, &k, 0, 5, RATELIMIT_CLOCK, &a);
    CHECK(!a.admitted && a.remaining == 0 && a.reset >= 1 && a.reset <= 61);
    pthread_t th[8];
    struct race r[8];
    int total = 0;
    for (int i = 0; i < 8; i++) {
        r[i] = (struct race){rl, 78, 2000, 0};
        pthread_create(&th[i], NULL, racer_clock, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += r[i].got;
    }
    CHECK(total == 500);
    ratelimit_free(rl);
}

/* Eight threads, four clients, far more tries than budget: exactly the limit each. */
static void test_threads(void)
{
    struct ratelimit *rl = ratelimit_new(1024, 1);
    pthread_t th[8];
    struct race r[8];
    int total = 0;
    for (int i = 0; i < 8; i++) {
        r[i] = (struct race){rl, 50, 4000, 0};
        pthread_create(&th[i], NULL, racer, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += r[i].got;
    }
    CHECK(total == 4 * 180);
    ratelimit_free(rl);
}

static struct ratelimit_addr addr(const char *s)
{
    struct ratelimit_addr a;
    memset(&a, 0x5a, sizeof a);
    if (ratelimit_addr_parse(&a, s, strlen(s)) != 0)
        memset(&a, 0x5a, sizeof a);
    return a;
}

static const char *fmt(const struct ratelimit_addr *a)
{
    static char out[4][64];
    static int i;
    i = (i + 1) % 4;
    ratelimit_addr_format(a, out[i], sizeof out[i]);
    return out[i];
}

static void test_addresses(void)
{
    struct ratelimit_addr a;
    struct ratelimit_key k1, k2;
    CHECK(ratelimit_addr_parse(&a, "192.0.2.7", 9) == 0);
    CHECK_STR(fmt(&a), "192.0.2.7");
    a = addr(" 192.0.2.7:8443 ");
    CHECK_STR(fmt(&a), "192.0.2.7");
    a = addr("2001:db8::1");
    CHECK_STR(fmt(&a), "2001:db8::1");
    a = addr("[2001:db8::2]:443");
    CHECK_STR(fmt(&a), "2001:db8::2");
    a = addr("::ffff:192.0.2.9");
    CHECK_STR(fmt(&a), "192.0.2.9"); /* mapped and plain IPv4 are one address */
    CHECK(ratelimit_addr_parse(&a, "unknown", 7) != 0);
    CHECK(ratelimit_addr_parse(&a, "", 0) != 0);
    CHECK(ratelimit_addr_parse(&a, "1.2.3", 5) != 0);
    CHECK(ratelimit_addr_parse(&a, "[::1", 4) != 0);
    CHECK(ratelimit_addr_parse(&a, "1.2.3.4.5", 9) != 0);

    struct sockaddr_in s4 = {0};
    s4.sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.3", &s4.sin_addr);
    CHECK(ratelimit_addr_from_sockaddr(&a, (struct sockaddr *)&s4) == 0);
    CHECK_STR(fmt(&a), "198.51.100.3");
    struct sockaddr_in6 s6 = {0};
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:1:2::99", &s6.sin6_addr);
    CHECK(ratelimit_addr_from_sockaddr(&a, (struct sockaddr *)&s6) == 0);
    CHECK_STR(fmt(&a), "2001:db8:1:2::99");
    struct sockaddr su = {0};
    su.sa_family = AF_UNIX;
    CHECK(ratelimit_addr_from_sockaddr(&a, &su) != 0);

    /* keys: IPv6 per /64, IPv4 per address */
    a = addr("2001:db8:1:2::99");
    ratelimit_key_addr(&k1, &a);
    a = addr("2001:db8:1:2:ffff::1");
    ratelimit_key_addr(&k2, &a);
    CHECK(memcmp(&k1, &k2, sizeof k1) == 0);
    a = addr("2001:db8:1:3::99");
    ratelimit_key_addr(&k2, &a);
    CHECK(memcmp(&k1, &k2, sizeof k1) != 0);
    a = addr("192.0.2.1");
    ratelimit_key_addr(&k1, &a);
    a = addr("192.0.2.2");
    ratelimit_key_addr(&k2, &a);
    CHECK(memcmp(&k1, &k2, sizeof k1) != 0);
}

static void test_cidrs(void)
{
    struct ratelimit_cidrs c;
    struct ratelimit_addr a;
    CHECK(ratelimit_cidrs_parse(&c, "10.0.0.0/8") == 0 && c.n == 1);
    a = addr("10.200.3.4");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("11.0.0.1");
    CHECK(!ratelimit_cidrs_match(&c, &a));
    a = addr("::ffff:10.1.1.1");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("::a00:1"); /* ::10.0.0.1 is not IPv4 */
    CHECK(!ratelimit_cidrs_match(&c, &a));
    CHECK(ratelimit_cidrs_parse(&c, "192.168.1.0/25, fd00::/8,127.0.0.1") == 0 && c.n == 3);
    a = addr("192.168.1.127");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("192.168.1.128");
    CHECK(!ratelimit_cidrs_match(&c, &a));
    a = addr("fdab::1");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("fe00::1");
    CHECK(!ratelimit_cidrs_match(&c, &a));
    a = addr("127.0.0.1");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("127.0.0.2");
    CHECK(!ratelimit_cidrs_match(&c, &a));
    CHECK(ratelimit_cidrs_parse(&c, "0.0.0.0/0") == 0);
    a = addr("203.0.113.1");
    CHECK(ratelimit_cidrs_match(&c, &a));
    a = addr("2001:db8::1");
    CHECK(!ratelimit_cidrs_match(&c, &a)); /* /0 of IPv4 is every IPv4 address only */
    CHECK(ratelimit_cidrs_parse(&c, "::/0") == 0 && ratelimit_cidrs_match(&c, &a));
    CHECK(ratelimit_cidrs_parse(&c, "::ffff:10.0.0.0/104") == 0);
    a = addr("10.9.9.9");
    CHECK(ratelimit_cidrs_match(&c, &a));
    static const char *bad[] = {"",
                                "10.0.0.0/33",
                                "::1/129",
                                "abc",
                                "10.0.0.0/",
                                "10.0.0.0/-1",
                                "1.2.3.4:80/8",
                                "[::1]/128",
                                "10.0.0.0/8,",
                                "10.0.0.0/8x",
                                "10.0.0.0/ 8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ratelimit_cidrs_parse(&c, bad[i]);
        CHECK(rc != 0);
        if (rc == 0)
            fprintf(stderr, "  accepted bad CIDR '%s'\n", bad[i]);
    }
    CHECK(ratelimit_cidrs_parse(&c, NULL) != 0);
}

static const char *client_of(const char *trusted, const char *peer, const char *h1, const char *h2)
{
    struct ratelimit_cidrs c;
    struct ratelimit_addr p = addr(peer), out;
    const char *vals[2] = {h1, h2};
    size_t lens[2] = {h1 ? strlen(h1) : 0, h2 ? strlen(h2) : 0};
    size_t n = h2 ? 2 : h1 ? 1 : 0;
    memset(&c, 0, sizeof c);
    if (trusted && ratelimit_cidrs_parse(&c, trusted) != 0)
        return "bad cidr";
    ratelimit_client_addr(trusted ? &c : NULL, &p, vals, lens, n, &out);
    return fmt(&out);
}

static void test_forwarded(void)
{
    /* no trusted proxy, or a peer outside it: the peer, whatever the header says */
    CHECK_STR(client_of(NULL, "192.0.2.1", "203.0.113.5", NULL), "192.0.2.1");
    CHECK_STR(client_of("10.0.0.0/8", "192.0.2.1", "203.0.113.5", NULL), "192.0.2.1");
    /* a trusted peer without a header */
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", NULL, NULL), "10.0.0.1");
    /* the last hop outside the range; what the client wrote on the left is ignored */
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "203.0.113.5", NULL), "203.0.113.5");
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.7", NULL),
              "203.0.113.5");
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "1.1.1.1", "203.0.113.9, 10.0.0.2"),
              "203.0.113.9");
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "203.0.113.9", "10.0.0.2"), "203.0.113.9");
    /* every hop trusted: the leftmost */
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "10.0.0.3, 10.0.0.2", NULL), "10.0.0.3");
    /* garbage to the left of a trusted hop: that hop */
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "junk, 10.0.0.2", NULL), "10.0.0.2");
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "junk", NULL), "10.0.0.1");
    CHECK_STR(client_of("10.0.0.0/8", "10.0.0.1", "203.0.113.5,", NULL), "10.0.0.1");
    /* IPv6 and ports */
    CHECK_STR(client_of("::1/128,10.0.0.0/8", "::1", "[2001:db8::5]:1234, 10.0.0.2:80", NULL),
              "2001:db8::5");
    CHECK_STR(client_of("127.0.0.0/8", "127.0.0.1", "2001:db8::6", NULL), "2001:db8::6");
}

int main(void)
{
    test_boundaries();
    test_slot_frees();
    test_sliding_model();
    test_sliding_steps();
    test_independent();
    test_peek();
    test_eviction();
    test_threads();
    test_real_clock();
    test_addresses();
    test_cidrs();
    test_forwarded();
    return unit_done();
}
