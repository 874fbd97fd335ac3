/* Registry lookups over the class tables of src/models/classes.c. Lookups by name are
 * linear over small arrays; the hot path caches the results per request. */
#include "registry.h"
#include "dynattr.h"
#include "sql.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

const struct class_def *registry_class(const char *name, size_t len)
{
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *c = &registry_classes[i];
        if ((strlen(c->name) == len && memcmp(c->name, name, len) == 0) ||
            (strlen(c->camel) == len && memcmp(c->camel, name, len) == 0))
            return c;
    }
    return NULL;
}

/* Field lookups run several times per request: an open-addressing table over every
 * (class, field name) pair, built once, replaces a linear scan of hundreds of names. */
#define FIELD_SLOTS 8192

static const struct field *field_slots[FIELD_SLOTS];
static const struct class_def *field_owner[FIELD_SLOTS];
static pthread_once_t field_once = PTHREAD_ONCE_INIT;

static size_t field_hash(const struct class_def *c, const char *name)
{
    size_t h = (size_t)(uintptr_t)c * 2654435761u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return h % FIELD_SLOTS;
}

static void field_index(void)
{
    for (int k = 0; k < registry_nclasses; k++) {
        const struct class_def *c = &registry_classes[k];
        for (int i = 0; i < c->nfields; i++) {
            size_t h = field_hash(c, c->fields[i].name);
            while (field_slots[h])
                h = (h + 1) % FIELD_SLOTS;
            field_slots[h] = &c->fields[i];
            field_owner[h] = c;
        }
    }
}

const struct field *registry_static_field(const struct class_def *c, const char *name)
{
    if (c < registry_classes || c >= registry_classes + registry_nclasses) {
        for (int i = 0; i < c->nfields; i++) /* a class table of a unit test */
            if (strcmp(c->fields[i].name, name) == 0)
                return &c->fields[i];
        return NULL;
    }
    pthread_once(&field_once, field_index);
    for (size_t h = field_hash(c, name); field_slots[h]; h = (h + 1) % FIELD_SLOTS)
        if (field_owner[h] == c && strcmp(field_slots[h]->name, name) == 0)
            return field_slots[h];
    return NULL;
}

const struct field *registry_field(const struct class_def *c, const char *name)
{
    const struct field *f = registry_static_field(c, name);
    return f ? f : dyn_field(c, name);
}

int registry_has_column(const struct field *f)
{
    return f->type != FT_REF_ALIAS && f->type != FT_HAS_MANY && f->type != FT_MULTI && !f->expr;
}

void registry_sql_ref(struct sql *q, const char *alias, const struct field *f)
{
    if (!f->expr) {
        sql_append(q, alias);
        sql_append(q, ".");
        sql_ident(q, f->type == FT_REF_ALIAS ? f->via : f->name);
        return;
    }
    const char *e = sql_dialect->expr && f->expr_pg ? f->expr_pg : f->expr;
    for (const char *p = e; *p; p++) {
        const char *d = strchr(p, '$');
        if (!d) {
            sql_append(q, p);
            break;
        }
        sql_appendn(q, p, (size_t)(d - p));
        sql_append(q, alias);
        p = d;
    }
}

enum sql_kind registry_kind(const struct field *f)
{
    switch (f->type) {
    case FT_DECIMAL:
        return SQLK_DECIMAL;
    case FT_DATETIME:
        return SQLK_TIME;
    case FT_BOOL:
        return SQLK_BOOL;
    default:
        return SQLK_INT;
    }
}

void registry_bind(struct sql *q, const struct field *f, int64_t v)
{
    sql_bind_as(q, v, registry_kind(f), f->scale);
}

int registry_is_state(const struct class_def *c, const char *s)
{
    if (!c->wf)
        return 0;
    for (const char *const *p = c->wf->states; *p; p++)
        if (strcmp(*p, s) == 0)
            return 1;
    return 0;
}

int registry_transition_ok(const struct class_def *c, const char *from, const char *to)
{
    if (!c->wf)
        return 0;
    if (from && strcmp(from, to) == 0)
        return 1; /* staying put is not a transition */
    for (int i = 0; i < c->wf->ntransitions; i++)
        if (strcmp(c->wf->transitions[i].from, from ? from : "") == 0 &&
            strcmp(c->wf->transitions[i].to, to) == 0)
            return 1;
    return 0;
}
