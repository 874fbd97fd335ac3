/* Per-thread cache of compiled filters: see filtercache.h. */
#include "filtercache.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

enum { SLOTS = 64, MAX_TEXT = 4096 };

struct slot {
    const struct class_def *k;
    const struct filter_zone *zone;
    const struct policy_role *role; /* which fields the caller may filter on */
    int week_start, fiscal_start;
    int64_t gen;
    uint64_t hash, used;
    char *text;
    size_t len;
    struct sql frag;
};

static __thread struct slot slots[SLOTS];
static __thread uint64_t clock_;

static const struct policy_role *view(const struct filter_env *env)
{
    return env->who ? policy_role(env->who) : NULL;
}

static int same(const struct slot *s, const struct class_def *k, const char *text, size_t len,
                uint64_t h, const struct filter_env *env, int64_t gen)
{
    return s->text && s->hash == h && s->k == k && s->len == len && s->gen == gen &&
           s->zone == env->zone && s->role == view(env) && s->week_start == env->week_start &&
           s->fiscal_start == env->fiscal_start && memcmp(s->text, text, len) == 0;
}

const struct sql *filtercache_get(const struct class_def *k, const char *text, size_t len,
                                  const struct filter_env *env, int64_t gen)
{
    if (len > MAX_TEXT)
        return NULL;
    uint64_t h = hash_bytes(text, len);
    for (int i = 0; i < SLOTS; i++)
        if (same(&slots[i], k, text, len, h, env, gen)) {
            slots[i].used = ++clock_;
            return &slots[i].frag;
        }
    return NULL;
}

static void slot_clear(struct slot *s)
{
    free(s->text);
    sql_release(&s->frag);
    memset(s, 0, sizeof *s);
}

void filtercache_put(const struct class_def *k, const char *text, size_t len,
                     const struct filter_env *env, int64_t gen, struct sql *frag)
{
    if (len > MAX_TEXT) {
        sql_release(frag);
        return;
    }
    struct slot *v = &slots[0];
    for (int i = 0; i < SLOTS && v->text; i++)
        if (!slots[i].text || slots[i].used < v->used)
            v = &slots[i];
    slot_clear(v);
    v->k = k;
    v->zone = env->zone;
    v->role = view(env);
    v->week_start = env->week_start;
    v->fiscal_start = env->fiscal_start;
    v->gen = gen;
    v->hash = hash_bytes(text, len);
    v->used = ++clock_;
    v->text = xstrndup(text, len);
    v->len = len;
    v->frag = *frag;
    memset(frag, 0, sizeof *frag);
}

void filtercache_release_thread(void)
{
    for (int i = 0; i < SLOTS; i++)
        slot_clear(&slots[i]);
}
