/* Dynamic attribute snapshots (dynattr.h). A snapshot holds, per registry class, an array
 * of heap-allocated field rows built from `model_attribute`; it is never changed after
 * publication. Threads hold a reference to the snapshot they use; the last one out frees
 * it. Names and types are validated before they become SQL identifiers. */
#include "dynattr.h"
#include "sql.h"
#include "util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dynclass {
    struct field *fields;
    int n;
};

struct snapshot {
    int64_t gen;
    int refs;
    struct dynclass *cls; /* indexed like registry_classes */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;
static __thread struct snapshot *mine;

static const struct {
    const char *name;
    enum ftype type;
} types[] = {
    {"string", FT_STRING}, {"text", FT_TEXT}, {"integer", FT_INT},       {"decimal", FT_DECIMAL},
    {"boolean", FT_BOOL},  {"date", FT_DATE}, {"datetime", FT_DATETIME}, {"multi_value", FT_MULTI},
};

int dyn_type(const char *t)
{
    for (size_t i = 0; t && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, t) == 0)
            return (int)types[i].type;
    return -1;
}

static const char *dyn_type_name(int type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if ((int)types[i].type == type)
            return types[i].name;
    return "?";
}

static void snap_free(struct snapshot *s)
{
    if (!s)
        return;
    for (int i = 0; i < registry_nclasses; i++) {
        for (int j = 0; j < s->cls[i].n; j++) {
            free((char *)s->cls[i].fields[j].name);
            free((char *)s->cls[i].fields[j].desc);
        }
        free(s->cls[i].fields);
    }
    free(s->cls);
    free(s);
}

static void unref(struct snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&lock);
    if (last)
        snap_free(s);
}

static int64_t read_gen(struct store_conn *db)
{
    static const char sql[] = "SELECT value FROM grantd_meta WHERE key = 'schema_gen'";
    int64_t g = 0;
    struct store_stmt *st = store_cached(db, sql, sizeof sql - 1);
    if (!st)
        return 0;
    if (store_step(st) == STORE_ROW)
        g = store_col_int(st, 0);
    store_reset(st);
    return g;
}

static int class_index(const struct class_def *c)
{
    return (int)(c - registry_classes);
}

int dyn_reload(struct store_conn *db)
{
    struct snapshot *s = xcalloc(1, sizeof *s);
    struct store_stmt *st = NULL;
    s->cls = xcalloc((size_t)registry_nclasses, sizeof *s->cls);
    s->refs = 1; /* the global reference */
    s->gen = read_gen(db);
    if (store_prepare(db,
                      "SELECT model_type, name, attribute_type, description FROM "
                      "model_attribute WHERE deleted_at IS NULL ORDER BY id",
                      STORE_NUL, 0, &st) != STORE_OK) {
        snap_free(s);
        return -1;
    }
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        const char *mt = (const char *)store_col_text(st, 0);
        const char *name = (const char *)store_col_text(st, 1);
        int type = dyn_type((const char *)store_col_text(st, 2));
        const struct class_def *c = mt ? registry_class(mt, strlen(mt)) : NULL;
        if (!c || !name || type < 0 || registry_static_field(c, name))
            continue;
        struct dynclass *d = &s->cls[class_index(c)];
        d->fields = xrealloc(d->fields, sizeof *d->fields * (size_t)(d->n + 1));
        struct field *f = &d->fields[d->n++];
        const char *desc = (const char *)store_col_text(st, 3);
        memset(f, 0, sizeof *f);
        f->name = xstrdup(name);
        f->type = (enum ftype)type;
        f->flags = FF_DYNAMIC | (type == FT_STRING || type == FT_TEXT ? FF_FULLTEXT : 0);
        f->scale = type == FT_DECIMAL ? 4 : 0;
        f->desc = xstrdup(desc && *desc ? desc : "A site-defined field.");
    }
    store_finalize(st);
    if (rc != STORE_DONE) { /* a scan cut short (busy, interrupted) publishes nothing */
        snap_free(s);
        return -1;
    }
    pthread_mutex_lock(&lock);
    struct snapshot *old = current;
    current = s;
    pthread_mutex_unlock(&lock);
    unref(old);
    return 0;
}

void dyn_sync(struct store_conn *db)
{
    if (store_changed(db, STORE_WATCH_FIELDS)) {
        int64_t g = read_gen(db);
        pthread_mutex_lock(&lock);
        int stale = !current || current->gen != g;
        pthread_mutex_unlock(&lock);
        if (stale)
            dyn_reload(db);
    }
    pthread_mutex_lock(&lock);
    if (mine != current) {
        struct snapshot *old = mine;
        mine = current;
        if (mine)
            mine->refs++;
        pthread_mutex_unlock(&lock);
        unref(old);
        return;
    }
    pthread_mutex_unlock(&lock);
}

int64_t dyn_generation(void)
{
    return mine ? mine->gen : -1;
}

void dyn_release_thread(void)
{
    unref(mine);
    mine = NULL;
}

int dyn_fields(const struct class_def *c, const struct field **out)
{
    struct snapshot *s = mine;
    if (!s) {
        *out = NULL;
        return 0;
    }
    *out = s->cls[class_index(c)].fields;
    return s->cls[class_index(c)].n;
}

const struct field *dyn_field(const struct class_def *c, const char *name)
{
    const struct field *f;
    int n = dyn_fields(c, &f);
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

int dyn_bump(struct store_conn *db)
{
    return store_exec(
               db,
               "INSERT INTO grantd_meta(key, value) VALUES('schema_gen', '1') "
               "ON CONFLICT(key) DO UPDATE SET value = CAST(grantd_meta.value AS INTEGER) + 1",
               NULL, 0) == STORE_OK
               ? 0
               : -1;
}

static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 63 || !islower((unsigned char)n[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '_')
            return 0;
    return 1;
}

struct column_find {
    const char *name;
    int found;
};

static int column_seen(void *arg, const char *name, const char *type)
{
    struct column_find *f = arg;
    (void)type;
    if (strcmp(name, f->name) == 0)
        f->found = 1;
    return 0;
}

/* The type of the newest deleted attribute of class c named name (whose column a new
 * attribute of that name reuses), or -1 when there is none. */
static int deleted_type(struct store_conn *db, const struct class_def *c, const char *name)
{
    struct sql q;
    struct store_stmt *st = NULL;
    int type = -1;
    sql_init(&q);
    sql_append(&q, "SELECT attribute_type FROM model_attribute WHERE model_type IN (");
    sql_bind_text(&q, c->name, strlen(c->name));
    sql_append(&q, ", ");
    sql_bind_text(&q, c->camel, strlen(c->camel));
    sql_append(&q, ") AND name = ");
    sql_bind_text(&q, name, strlen(name));
    sql_append(&q, " AND deleted_at IS NOT NULL ORDER BY id DESC LIMIT 1");
    if (store_prepare_sql(db, &q, &st) == STORE_OK && store_step(st) == STORE_ROW &&
        store_col_text(st, 0))
        type = dyn_type((const char *)store_col_text(st, 0));
    store_finalize(st);
    sql_release(&q);
    return type;
}

int dyn_add_column(struct store_conn *db, const char *model_type, const char *name,
                   const char *type, char *problem, size_t plen, const char **at)
{
    const struct class_def *c = model_type ? registry_class(model_type, strlen(model_type)) : NULL;
    int t = dyn_type(type);
    if (!c) {
        *at = "model_type";
        snprintf(problem, plen, "is not a class of this site");
        return -1;
    }
    if (!name || !valid_name(name)) {
        *at = "name";
        snprintf(problem, plen, "must be lower case letters, digits and _ (at most 63)");
        return -1;
    }
    if (t < 0) {
        *at = "attribute_type";
        snprintf(problem, plen, "is not a supported attribute type");
        return -1;
    }
    if (strcmp(name, "lock_version") == 0) {
        *at = "name";
        snprintf(problem, plen, "is reserved: the record's version (its ETag)");
        return -1;
    }
    if (registry_static_field(c, name) || dyn_field(c, name)) {
        *at = "name";
        snprintf(problem, plen, "is already a field of %s", c->name);
        return -1;
    }
    if (t != FT_MULTI) {
        struct sql q;
        int exists = 0;
        struct column_find find = {name, 0};
        if (store_table_columns(db, c->name, column_seen, &find) == 0)
            exists = find.found;
        int was = exists ? deleted_type(db, c, name) : -1;
        if (was >= 0 && was != FT_MULTI && was != t) {
            /* the column (typed on PostgreSQL) and its values stay those of the old field */
            *at = "attribute_type";
            snprintf(problem, plen,
                     "must be %s: a deleted %s field of this name keeps its column and values; "
                     "use another name for a %s field",
                     dyn_type_name(was), dyn_type_name(was), type);
            return -1;
        }
        if (!exists) { /* a deleted attribute's column is reused */
            sql_init(&q);
            sql_append(&q, "ALTER TABLE ");
            sql_ident(&q, c->name);
            sql_append(&q, " ADD COLUMN ");
            sql_ident(&q, name);
            sql_append(&q, " ");
            sql_append(&q, t == FT_STRING || t == FT_TEXT ? "TEXT"
                           : t == FT_DATE                 ? sql_dialect->date_type
                           : t == FT_DECIMAL              ? sql_dialect->dec_type
                           : t == FT_DATETIME             ? sql_dialect->time_type
                           : t == FT_BOOL                 ? sql_dialect->bool_type
                                                          : sql_dialect->int_type);
            int rc = store_exec(db, q.buf, NULL, 0);
            sql_release(&q);
            if (rc != STORE_OK) {
                *at = "name";
                snprintf(problem, plen, "could not be added");
                return -1;
            }
        }
    }
    return dyn_bump(db);
}
