/* Rate limiting (contract §9): a sliding-window limiter keyed by 16 bytes (an OAuth client,
 * or a source address) with a few independent tiers per key; one instance is shared by all
 * worker threads. Also the source-address helpers: IPv4/IPv6 parsing, CIDR lists and the
 * client address behind trusted proxies (X-Forwarded-For). It does not parse HTTP, read
 * settings or pick limits: the pipeline (api.c) does. docs/ratelimit.md explains why the
 * algorithm never admits more than the limit in any 60-second window. */
#ifndef GRANTD_RATELIMIT_H
#define GRANTD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RATELIMIT_WINDOW 60  /* seconds */
#define RATELIMIT_BUCKETS 61 /* 1-second buckets summed for one decision */
#define RATELIMIT_TIERS 3    /* budgets per key */

/* Per-address budgets for unauthenticated traffic, per RATELIMIT_WINDOW (docs/ratelimit.md). */
enum ratelimit_addr_tier {
    RATELIMIT_ADDR_OAUTH,     /* every call to /oauth/token, /oauth/revoke, /oauth/introspect */
    RATELIMIT_ADDR_BAD_TOKEN, /* 401 answers to missing, unknown, expired or revoked tokens */
    RATELIMIT_ADDR_SIGNIN,    /* sign-in form attempts (reserved for the sign-in page) */
};
#define RATELIMIT_ADDR_OAUTH_LIMIT 60
#define RATELIMIT_ADDR_BAD_TOKEN_LIMIT 20
#define RATELIMIT_ADDR_SIGNIN_LIMIT 20

/* Bounds on the number of keys held (each ~0.8 KiB, allocated on first use). */
#define RATELIMIT_MAX_CLIENTS (1u << 18)
#define RATELIMIT_MAX_ADDRS (1u << 14)

#define RATELIMIT_CLOCK INT64_MIN

struct ratelimit;

struct ratelimit_key {
    unsigned char b[16];
};

struct ratelimit_answer {
    int admitted;       /* 1: admitted and counted; 0: refused, nothing counted */
    uint32_t limit;     /* the limit the decision used */
    uint32_t remaining; /* requests still admitted in the current window, after this one */
    uint32_t reset;     /* seconds until a slot frees (0 when nothing is counted) */
};

/* strict: when the table is full of keys active in the last 61 s, refuse a new key (never
 * over-admit; for clients) rather than forget the least recently used one (for addresses,
 * where an attacker controls how many keys there are). max_keys >= 1. */
struct ratelimit *ratelimit_new(size_t max_keys, int strict);
void ratelimit_free(struct ratelimit *rl);
/* Count one request of `tier` for `key` at monotonic time now_ms if the window has room.
 * now_ms = RATELIMIT_CLOCK: the limiter reads the monotonic clock itself, under the lock
 * that orders the decisions (the server's choice; tests pass their own clock).
 * Thread-safe; O(RATELIMIT_BUCKETS) at most. 0, or -1 on a bad tier (a then refused). */
int ratelimit_take(struct ratelimit *rl, const struct ratelimit_key *key, int tier, uint32_t limit,
                   int64_t now_ms, struct ratelimit_answer *a);
/* Whether ratelimit_take would admit now, and the window as it stands (remaining, reset),
 * without counting anything or adding the key. */
int ratelimit_peek(struct ratelimit *rl, const struct ratelimit_key *key, int tier, uint32_t limit,
                   int64_t now_ms, struct ratelimit_answer *a);
/* Keys currently held (tests and diagnostics). */
size_t ratelimit_size(struct ratelimit *rl);

void ratelimit_key_client(struct ratelimit_key *k, int64_t client_pk);

/* Source addresses: IPv6 bytes, IPv4 as ::ffff:a.b.c.d. */
struct ratelimit_addr {
    unsigned char b[16];
};
/* IPv6 addresses share a key per /64 (what one host is usually given); IPv4 per address. */
void ratelimit_key_addr(struct ratelimit_key *k, const struct ratelimit_addr *a);
int ratelimit_addr_from_sockaddr(struct ratelimit_addr *a, const struct sockaddr *sa);
/* "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443"; 0 or -1. */
int ratelimit_addr_parse(struct ratelimit_addr *a, const char *s, size_t n);
void ratelimit_addr_format(const struct ratelimit_addr *a, char *out, size_t outlen);

#define RATELIMIT_MAX_CIDRS 16
struct ratelimit_cidrs {
    int n;
    struct {
        struct ratelimit_addr net;
        int bits; /* of the 128-bit form */
    } c[RATELIMIT_MAX_CIDRS];
};
/* "10.0.0.0/8", "::1/128", "192.0.2.7" (a single host), comma-separated; 0 or -1. */
int ratelimit_cidrs_parse(struct ratelimit_cidrs *c, const char *spec);
int ratelimit_cidrs_match(const struct ratelimit_cidrs *c, const struct ratelimit_addr *a);
/* The client's address: the peer itself unless the peer is a trusted proxy; then the last
 * X-Forwarded-For hop (right to left, over the header values vals[0..n) in the order they
 * came) outside the trusted ranges; the leftmost valid hop when every hop is trusted; the
 * last trusted hop when the next one to its left does not parse. */
void ratelimit_client_addr(const struct ratelimit_cidrs *trusted, const struct ratelimit_addr *peer,
                           const char *const *vals, const size_t *lens, size_t n,
                           struct ratelimit_addr *out);

#endif
