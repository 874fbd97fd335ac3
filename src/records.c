/* The read side of the API: list (filter, sort, paging, deleted), fetch, and the rendering
 * of records for v1 (styles, `*_id` as relation name, nulls kept) and v2 (cols, nulls
 * omitted), with relation expansion one level deep. Values are rendered from the stored
 * exact representation (value.h), never through a binary float. */
#include "records.h"
#include "countcache.h"
#include "dynattr.h"
#include "settings.h"
#include "store.h"
#include "filter.h"
#include "filtercache.h"
#include "jsonw.h"
#include "params.h"
#include "policy.h"
#include "value.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum okind { K_COL, K_ALIAS, K_MANY, K_REL, K_MAV };

struct outf {
    const struct field *f;
    const char *key;
    size_t keylen;
    int key_plain; /* key needs no JSON escaping (registry names do not) */
    enum okind kind;
    int col; /* select-list index holding the value (or the via / id column) */
    const struct class_def *target;
    const struct class_def *owner; /* the class of the record this member belongs to */
    struct outf *sub;              /* K_REL: fields of the related class */
    int nsub;
    struct sql relsql;   /* K_REL: statement for the related rows */
    struct sql manysql;  /* K_MANY: ids of the related rows */
    struct sql batchsql; /* K_REL to one record: the rows of a JSON array of ids */
};

struct plan {
    const struct class_def *cls;
    struct outf *o;
    int n, cap;
    struct sql cols; /* "t"."id", "t"."x", ... */
    int ncols;
};

void records_release_temp(struct worker *w)
{
    store_release_temp(w->db);
}

struct store_stmt *records_stmt(struct ctx *c, const struct sql *q)
{
    struct store_stmt *st = stmt_get(c->w, q->buf, q->len);
    if (!st || store_bind_sql(st, q) != STORE_OK)
        return NULL;
    return st;
}

/* ---- plans: which members to render ---- */

static struct outf *plan_add(struct plan *p)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->o = xrealloc(p->o, sizeof *p->o * (size_t)p->cap);
    }
    struct outf *o = &p->o[p->n++];
    memset(o, 0, sizeof *o);
    sql_init(&o->relsql);
    sql_init(&o->manysql);
    sql_init(&o->batchsql);
    o->col = -1;
    return o;
}

static void set_key(struct outf *o, const char *key)
{
    o->key = key;
    o->keylen = strlen(key);
    o->key_plain = 1;
    for (const unsigned char *k = (const unsigned char *)key; *k; k++)
        if (*k < 0x20 || *k == '"' || *k == '\\' || *k >= 0x7f)
            o->key_plain = 0;
}

static int plan_col(struct plan *p, const char *colname)
{
    sql_append(&p->cols, ", t.");
    sql_ident(&p->cols, colname);
    return p->ncols++;
}

/* A field's value in the select list: its column or its computed expression. */
static int plan_ref(struct plan *p, const struct field *f)
{
    sql_append(&p->cols, ", ");
    registry_sql_ref(&p->cols, "t", f);
    return p->ncols++;
}

static void plan_free(struct plan *p)
{
    for (int i = 0; i < p->n; i++) {
        struct outf *o = &p->o[i];
        if (o->sub) {
            struct plan sp = {0};
            sp.o = o->sub;
            sp.n = o->nsub;
            sql_init(&sp.cols);
            plan_free(&sp);
        }
        sql_release(&o->relsql);
        sql_release(&o->manysql);
        sql_release(&o->batchsql);
    }
    free(p->o);
    sql_release(&p->cols);
    memset(p, 0, sizeof *p);
}

static void plan_init(struct plan *p, const struct class_def *k)
{
    memset(p, 0, sizeof *p);
    p->cls = k;
    sql_init(&p->cols);
    sql_append(&p->cols, "t.\"id\"");
    p->ncols = 1;
}

/* Fields the caller may see (in clear or masked): the policy decides. */
static int visible(const struct ctx *c, const struct field *f)
{
    return policy_field(&c->p, f) != PF_HIDDEN;
}

/* Fields the caller may sort, group or aggregate by: 0, or -1 after answering 103. */
static int usable(struct ctx *c, const struct class_def *k, const struct field *f, const char *what)
{
    if (policy_field_usable(&c->p, f))
        return 0;
    ctx_error(c, ERR_BAD_PARAM, NULL, "%s of %s is masked to your role and cannot be %s", f->name,
              k->name, what);
    return -1;
}

/* The ids of a plural relation's live rows that the caller may read. */
static void many_sql(struct ctx *c, struct outf *o)
{
    sql_append(&o->manysql, "SELECT x.\"id\" FROM ");
    sql_ident(&o->manysql, o->target->name);
    sql_append(&o->manysql, " x WHERE x.");
    sql_ident(&o->manysql, o->f->via);
    sql_append(&o->manysql, " = ");
    sql_bind_null(&o->manysql); /* value 1: the row's id, bound when rendered */
    sql_append(&o->manysql, " AND x.\"deleted_at\" IS NULL");
    policy_scope(&c->p, o->target, "x", &o->manysql);
    sql_append(&o->manysql, " ORDER BY x.\"id\"");
}

/* Add a field as a plain member (column, alias id array, or has-many id array). */
static void plan_field(struct ctx *c, struct plan *p, const struct field *f, const char *key)
{
    if (strcmp(f->name, "id") == 0)
        return; /* always first */
    struct outf *o = plan_add(p);
    o->f = f;
    o->owner = p->cls;
    set_key(o, key ? key : f->name);
    if (f->type == FT_MULTI) {
        o->kind = K_MAV;
        o->col = 0;
    } else if (f->type == FT_HAS_MANY) {
        o->kind = K_MANY;
        o->target = registry_class(f->target, strlen(f->target));
        o->col = 0;
        many_sql(c, o);
    } else if (f->type == FT_REF_ALIAS) {
        o->kind = K_ALIAS;
        o->col = plan_col(p, f->via);
    } else {
        o->kind = K_COL;
        o->col = plan_ref(p, f);
    }
}

static unsigned style_mask(const char *style)
{
    if (!style || strcmp(style, "detail") == 0 || strcmp(style, "detailed") == 0)
        return FF_COMPACT | FF_DETAIL;
    if (strcmp(style, "compact") == 0)
        return FF_COMPACT;
    return ~0u; /* full */
}

/* v1 renders a `*_id` relation under its name without `_id`. */
static const char *v1_key(struct ctx *c, const struct field *f)
{
    size_t n = strlen(f->name);
    if (f->type != FT_REF || n < 4 || strcmp(f->name + n - 3, "_id") != 0)
        return f->name;
    h2o_iovec_t k = h2o_strdup(&c->req->pool, f->name, n - 3);
    return k.base;
}

static int via_selected(const struct plan *p, const char *via)
{
    for (int i = 0; i < p->n; i++)
        if (p->o[i].kind == K_COL && strcmp(p->o[i].f->name, via) == 0)
            return 1;
    return 0;
}

static int has_key(const struct plan *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->o[i].key, key) == 0)
            return 1;
    return 0;
}

/* Site-defined fields, in the order they were defined. */
static void plan_dynamic(struct ctx *c, struct plan *p, const struct class_def *k)
{
    const struct field *d;
    int n = dyn_fields(k, &d);
    for (int i = 0; i < n; i++)
        if (!has_key(p, d[i].name))
            plan_field(c, p, &d[i], NULL);
}

/* Fields of a style preset (v1) or all columns (v2 default). */
static void plan_preset(struct ctx *c, struct plan *p, const struct class_def *k, unsigned mask,
                        int columns_only)
{
    for (int i = 0; i < k->nfields; i++) {
        const struct field *f = &k->fields[i];
        if (!visible(c, f) || strcmp(f->name, "id") == 0)
            continue;
        int has_col = registry_has_column(f);
        if (columns_only && !has_col)
            continue;
        if (mask != ~0u && !(f->flags & mask))
            continue;
        if (c->version == 1 && f->type == FT_REF_ALIAS && via_selected(p, f->via))
            continue;
        plan_field(c, p, f, c->version == 1 ? v1_key(c, f) : NULL);
    }
}

/* Resolve a relation parameter value into the sub-plan of the related class. */
static int plan_relation(struct ctx *c, struct plan *p, const char *name, json_t *spec)
{
    const struct class_def *k = p->cls;
    const struct field *f = registry_field(k, name);
    if (!f || !visible(c, f) ||
        (f->type != FT_REF && f->type != FT_REF_ALIAS && f->type != FT_HAS_MANY) || !f->target) {
        ctx_ignore(c, name);
        return 0;
    }
    const struct class_def *t = registry_class(f->target, strlen(f->target));
    if (!t) {
        ctx_ignore(c, name);
        return 0;
    }
    /* The relation replaces a plain member of the same field or the same key (v1 keys
     * `organization_id` as `organization`, the alias's own name), keeping its position; a
     * second relation onto one member is ignored. */
    const char *key = c->version == 1 ? v1_key(c, f) : f->name;
    struct outf *o = NULL;
    for (int i = 0; i < p->n; i++)
        if (p->o[i].f == f || strcmp(p->o[i].key, key) == 0)
            o = &p->o[i];
    if (o && o->kind == K_REL) {
        ctx_ignore(c, name);
        return 0;
    }
    if (o && o->kind == K_MAV) { /* not a relation column: keep the member as it is */
        ctx_ignore(c, name);
        return 0;
    }
    if (o && o->f != f) { /* same key, another field of the same relation: read its column */
        o->f = f;
        o->col = f->type == FT_HAS_MANY ? 0
                 : f->type == FT_REF    ? plan_col(p, f->name)
                                        : plan_col(p, f->via);
    }
    if (!o) {
        o = plan_add(p);
        o->f = f;
        set_key(o, key);
        o->col = f->type == FT_HAS_MANY ? 0
                 : f->type == FT_REF    ? plan_col(p, f->name)
                                        : plan_col(p, f->via);
    } else if (o->kind == K_MANY) {
        o->col = 0;
    }
    o->kind = K_REL;
    o->target = t;
    struct plan sp;
    plan_init(&sp, t);
    if (json_is_array(spec)) {
        size_t i;
        json_t *v;
        json_array_foreach(spec, i, v)
        {
            const char *fn = json_string_value(v);
            const struct field *sf = fn ? registry_field(t, fn) : NULL;
            if (!sf || !visible(c, sf) || has_key(&sp, sf->name)) {
                if (fn && (!sf || !visible(c, sf))) {
                    char both[300];
                    snprintf(both, sizeof both, "%s.%s", name, fn);
                    ctx_ignore(c, both);
                }
                continue;
            }
            plan_field(c, &sp, sf, NULL);
        }
    } else {
        const char *style = json_string_value(spec);
        plan_preset(c, &sp, t, style_mask(style), 0);
    }
    sql_append(&o->relsql, "SELECT ");
    sql_append(&o->relsql, sp.cols.buf);
    sql_append(&o->relsql, " FROM ");
    sql_ident(&o->relsql, t->name);
    sql_append(&o->relsql, " t WHERE t.");
    sql_ident(&o->relsql, f->type == FT_HAS_MANY ? f->via : "id");
    sql_append(&o->relsql, " = ");
    sql_bind_null(&o->relsql); /* value 1: the key, bound when rendered (render_related) */
    sql_append(&o->relsql, " AND t.\"deleted_at\" IS NULL");
    policy_scope(&c->p, t, "t", &o->relsql); /* expanded rows: only those the caller reads */
    sql_append(&o->relsql, " ORDER BY t.\"id\"");
    if (f->type != FT_HAS_MANY) {
        sql_append(&o->batchsql, "SELECT ");
        sql_append(&o->batchsql, sp.cols.buf);
        sql_append(&o->batchsql, " FROM ");
        sql_ident(&o->batchsql, t->name);
        sql_append(&o->batchsql, " t WHERE t.\"id\"");
        sql_keys(&o->batchsql, NULL, 0); /* value 1: the page's keys, bound by batch_fill */
        sql_append(&o->batchsql, " AND t.\"deleted_at\" IS NULL");
        policy_scope(&c->p, t, "t", &o->batchsql);
    }
    o->sub = sp.o;
    o->nsub = sp.n;
    sql_release(&sp.cols);
    return 0;
}

/* `cols` is nearly always a short JSON array of plain field names, asked for on every
 * request: read that shape directly. -1 (use the JSON parser) for anything else: escapes,
 * non-strings, long names, many names, or not a string parameter at all. */
enum { FAST_NAMES = 64, FAST_NAME_LEN = 64 };
struct names {
    char name[FAST_NAMES][FAST_NAME_LEN];
};

static int simple_names(json_t *v, struct names *out)
{
    if (!v || !json_is_string(v))
        return -1;
    const char *s = json_string_value(v), *e = s + json_string_length(v);
    int n = 0;
#define SKIP_WS()                                                                                  \
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))                         \
    s++
    SKIP_WS();
    if (s == e || *s++ != '[')
        return -1;
    SKIP_WS();
    if (s < e && *s == ']') {
        s++;
        SKIP_WS();
        return s == e ? 0 : -1;
    }
    for (;;) {
        if (s == e || *s++ != '"' || n == FAST_NAMES)
            return -1;
        size_t len = 0;
        while (s < e && *s != '"') {
            unsigned char ch = (unsigned char)*s;
            if (ch == '\\' || ch < 0x20 || ch >= 0x80 || len + 1 >= FAST_NAME_LEN)
                return -1;
            out->name[n][len++] = *s++;
        }
        if (s == e)
            return -1;
        s++;
        out->name[n++][len] = 0;
        SKIP_WS();
        if (s < e && *s == ',') {
            s++;
            SKIP_WS();
            continue;
        }
        if (s < e && *s == ']') {
            s++;
            SKIP_WS();
            return s == e ? n : -1;
        }
        return -1;
    }
#undef SKIP_WS
}

/* One name of `cols`: its field, once, or noted as ignored. */
static void plan_named(struct ctx *c, struct plan *p, const struct class_def *k, const char *n)
{
    const struct field *f = registry_field(k, n);
    if (!f || !visible(c, f)) {
        ctx_ignore(c, n);
        return;
    }
    const char *key = c->version == 1 ? v1_key(c, f) : f->name;
    if (strcmp(n, "id") == 0 || has_key(p, key))
        return;
    plan_field(c, p, f, key);
}

/* Build the plan from cols / all_core / style / relation. 0, or -1 after answering 103. */
static int plan_build(struct ctx *c, struct plan *p, const struct class_def *k)
{
    char err[256];
    plan_init(p, k);
    struct names fast;
    json_t *cols = NULL;
    int nfast = simple_names(json_object_get(c->params, "cols"), &fast);
    if (nfast < 0) {
        cols = params_json(c->params, "cols", err, sizeof err);
        if (!cols && err[0])
            return ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err), -1;
        if (cols && !json_is_array(cols)) {
            json_decref(cols);
            return ctx_error(c, ERR_BAD_PARAM, NULL, "cols must be a JSON array of field names"),
                   -1;
        }
    }
    for (int i = 0; i < nfast; i++)
        plan_named(c, p, k, fast.name[i]);
    size_t i;
    json_t *v;
    json_array_foreach(cols, i, v)
    {
        if (json_is_string(v))
            plan_named(c, p, k, json_string_value(v));
    }
    if (nfast > 0 || json_array_size(cols) > 0) {
        if (params_flag(c->params, "all_core"))
            plan_preset(c, p, k, ~0u, 1);
    } else if (c->version == 1) {
        const char *style = params_str(c->params, "style");
        plan_preset(c, p, k, style_mask(style), 0);
        if (style_mask(style) == ~0u)
            plan_dynamic(c, p, k);
    } else if (!params_flag(c->params, "all_dynamic") || params_flag(c->params, "all_core")) {
        plan_preset(c, p, k, ~0u, 1);
    }
    if (params_flag(c->params, "all_dynamic"))
        plan_dynamic(c, p, k);
    json_decref(cols);

    json_t *rel = params_json(c->params, "relation", err, sizeof err);
    if (!rel && err[0])
        return ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err), -1;
    if (rel && !json_is_object(rel)) {
        json_decref(rel);
        return ctx_error(c, ERR_BAD_PARAM, NULL, "relation must be a JSON object"), -1;
    }
    if (rel) {
        const char *name;
        json_t *spec;
        json_object_foreach(rel, name, spec)
        {
            if (!json_is_array(spec) && !json_is_string(spec)) {
                json_decref(rel);
                return ctx_error(c, ERR_BAD_PARAM, NULL,
                                 "relation %s must name an array of fields or a style", name),
                       -1;
            }
            plan_relation(c, p, name, spec);
        }
        json_decref(rel);
    }
    return 0;
}

/* ---- rendering ---- */

/* A decimal that an engine gives as text: the integer form itself when wider than 64 bits
 * (SQLite's grantd_sum), or, with a point, a value in its own units that the engine's
 * decimal type printed (a PostgreSQL sum or expression), scaled by 10^scale here. */
static int text_decimal(const char *s, size_t n, int scale, __int128 *out)
{
    return value_parse_wide_scaled(s, n, memchr(s, '.', n) ? scale : 0, out);
}

static int render_value(struct ctx *c, const struct field *f, struct store_stmt *st, int col,
                        struct buf *b)
{
    char tmp[48];
    /* One column call for the type and the value (store_col_value): a call per accessor
     * cost ~6% of a list page's CPU on SQLite. */
    struct store_value v;
    store_col_value(st, col, &v);
    if (v.type == STORE_NULL)
        return 1;
    switch (f->type) {
    case FT_INT:
    case FT_REF:
        jw_int(b, v.i);
        break;
    case FT_REF_ALIAS:
        buf_addc(b, '[');
        jw_int(b, v.i);
        buf_addc(b, ']');
        break;
    case FT_DECIMAL:
        if (v.type == STORE_TEXT) { /* an expression's decimal, not scaled by the engine */
            __int128 w;
            if (text_decimal(v.s, (size_t)v.n, f->scale, &w) != 0)
                return 1;
            buf_add(b, tmp, value_format_decimal_wide(w, f->scale, tmp));
            break;
        }
        buf_add(b, tmp, value_format_decimal(v.i, f->scale, tmp));
        break;
    case FT_FLOAT: {
        int n = snprintf(tmp, sizeof tmp, "%.15g", v.d);
        buf_add(b, tmp, (size_t)n);
        if (!strpbrk(tmp, ".eEn"))
            buf_adds(b, ".0");
        break;
    }
    case FT_BOOL:
        buf_adds(b, v.i ? "true" : "false");
        break;
    case FT_DATETIME:
        jw_str(b, tmp, value_format_datetime(v.i, tmp));
        break;
    default: {
        const char *s = v.s;
        int n = v.n;
        if (policy_field(&c->p, f) == PF_MASKED) {
            char m[16];
            policy_mask(s, (size_t)n, m);
            jw_strz(b, m);
        } else {
            jw_str(b, s, (size_t)n);
        }
    }
    }
    return 0;
}

static void render_record(struct ctx *c, const struct outf *o, int n, struct store_stmt *st,
                          struct buf *b);

/* A multi-value field (ref §4.10): the selected model_attribute_value rows of this record.
 * Plain: ["val",..]; enhanced_mavs: "root||...||leaf"; show_mavs: [[{id,desc,val},..],..]
 * root to leaf, amount_value on the selected segment when set. */
static void render_mav(struct ctx *c, const struct outf *o, int64_t id, struct buf *b)
{
    static const char sel_sql[] =
        "SELECT ch.\"model_attribute_value_id\", ch.\"amount_value\" FROM "
        "\"model_attribute_choice\" ch JOIN \"model_attribute\" ma ON ma.\"id\" = "
        "ch.\"model_attribute_id\" WHERE ch.\"model_id\" = ? AND ma.\"name\" = ? AND "
        "ma.\"model_type\" = ? AND ma.\"deleted_at\" IS NULL AND ch.\"deleted_at\" IS NULL "
        "ORDER BY ch.\"id\"";
    static const char val_sql[] =
        "SELECT \"value\", \"description\", \"dependent_model_attribute_value_id\" FROM "
        "\"model_attribute_value\" WHERE \"id\" = ?";
    int show = params_flag(c->params, "show_mavs");
    int enhanced = !show && params_flag(c->params, "enhanced_mavs");
    struct store_stmt *s = stmt_get(c->w, sel_sql, sizeof sel_sql - 1);
    if (s) {
        store_bind_int(s, 1, id);
        store_bind_text(s, 2, o->f->name, -1);
        store_bind_text(s, 3, o->owner->camel, -1); /* not c->cls: an
                                                    expanded record's own class */
    }
    buf_addc(b, '[');
    int first = 1;
    while (s && store_step(s) == STORE_ROW) {
        int64_t path[16];
        int depth = 0;
        int64_t vid = store_col_int(s, 0);
        int has_amount = store_col_type(s, 1) != STORE_NULL;
        int64_t amount = store_col_int(s, 1);
        /* walk to the root (bounded: a cycle cannot loop forever) */
        struct store_stmt *v = stmt_get(c->w, val_sql, sizeof val_sql - 1);
        if (!v)
            break;
        for (int64_t cur = vid; cur && depth < 16;) {
            path[depth++] = cur;
            store_reset(v);
            store_bind_int(v, 1, cur);
            cur = store_step(v) == STORE_ROW ? store_col_int(v, 2) : 0;
        }
        jw_sep(b, &first);
        if (show)
            buf_addc(b, '[');
        else if (enhanced)
            buf_addc(b, '"');
        for (int d = depth - 1, f2 = 1; d >= 0; d--) {
            store_reset(v);
            store_bind_int(v, 1, path[d]);
            if (store_step(v) != STORE_ROW)
                continue;
            const char *val = (const char *)store_col_text(v, 0);
            if (show) {
                jw_sep(b, &f2);
                buf_adds(b, "{\"id\":");
                jw_int(b, path[d]);
                buf_adds(b, ",\"desc\":");
                jw_strz(b, store_col_text(v, 1) ? (const char *)store_col_text(v, 1)
                                                : (val ? val : ""));
                buf_adds(b, ",\"val\":");
                jw_strz(b, val ? val : "");
                if (d == 0 && has_amount) {
                    char tmp[32];
                    buf_adds(b, ",\"amount_value\":");
                    buf_add(b, tmp, value_format_decimal(amount, 4, tmp));
                }
                buf_addc(b, '}');
            } else if (enhanced) {
                struct buf e;
                buf_init(&e);
                jw_strz(&e, val ? val : "");
                if (d != depth - 1)
                    buf_adds(b, "||");
                buf_add(b, e.s + 1, e.len - 2); /* escaped, without its quotes */
                buf_release(&e);
            } else if (d == 0) {
                jw_strz(b, val ? val : "");
            }
        }
        if (show)
            buf_addc(b, ']');
        else if (enhanced)
            buf_addc(b, '"');
        store_reset(v);
    }
    if (s)
        store_reset(s);
    buf_addc(b, ']');
}

/* A list page expands a relation to one record (`relation={"program_organization_id":
 * [...]}`) with one query for the whole page instead of one per row: rendering leaves a
 * gap where each expansion goes, batch_fill renders the related rows once and splices
 * them in. Only the page's own fields are batched (not those of expanded records). */
struct deferred {
    size_t at; /* offset in the output of the gap */
    int64_t key;
    int field; /* index into top */
};
struct relbatch {
    const struct outf *top;
    int ntop;
    struct deferred *d;
    int n, cap;
};
static __thread struct relbatch *batch;

static void batch_defer(struct relbatch *rb, size_t at, int64_t key, int field)
{
    if (rb->n == rb->cap) {
        rb->cap = rb->cap ? rb->cap * 2 : 64;
        rb->d = xrealloc(rb->d, sizeof *rb->d * (size_t)rb->cap);
    }
    rb->d[rb->n++] = (struct deferred){at, key, field};
}

static void render_record(struct ctx *c, const struct outf *o, int n, struct store_stmt *st,
                          struct buf *b);

struct frag {
    int64_t key;
    size_t off, len;
};

/* Render the deferred expansions and splice them into out. 0, or -1 (nothing sent). */
static int batch_fill(struct ctx *c, struct relbatch *rb, struct buf *out)
{
    struct buf ids, frags, res;
    struct frag *fr = xmalloc(sizeof *fr * (size_t)rb->n);
    int nfr = 0, rc = 0;
    int *first_frag = xmalloc(sizeof(int) * (size_t)(rb->ntop + 1));
    buf_init(&ids);
    buf_init(&frags);
    buf_init(&res);
    for (int f = 0; f < rb->ntop; f++) {
        first_frag[f] = nfr;
        const struct outf *o = &rb->top[f];
        int any = 0;
        ids.len = 0;
        buf_addc(&ids, '[');
        for (int i = 0; i < rb->n; i++)
            if (rb->d[i].field == f) {
                if (any++)
                    buf_addc(&ids, ',');
                jw_int(&ids, rb->d[i].key);
            }
        buf_addc(&ids, ']');
        if (!any)
            continue;
        struct store_stmt *st = records_stmt(c, &o->batchsql); /* the scope's values too */
        if (!st || store_bind_text(st, 1, ids.s, (int)ids.len) != STORE_OK) {
            rc = -1;
            break;
        }
        int s;
        while ((s = store_step(st)) == STORE_ROW && nfr < rb->n) {
            fr[nfr].key = store_col_int(st, 0);
            fr[nfr].off = frags.len;
            buf_addc(&frags, '[');
            render_record(c, o->sub, o->nsub, st, &frags);
            buf_addc(&frags, ']');
            fr[nfr].len = frags.len - fr[nfr].off;
            nfr++;
        }
        store_reset(st);
        if (s != STORE_DONE && s != STORE_ROW) {
            rc = -1;
            break;
        }
    }
    first_frag[rb->ntop] = nfr;
    if (rc == 0) {
        size_t prev = 0;
        for (int i = 0; i < rb->n; i++) {
            const struct deferred *d = &rb->d[i];
            buf_add(&res, out->s + prev, d->at - prev);
            prev = d->at;
            const struct frag *hit = NULL;
            for (int j = first_frag[d->field]; j < first_frag[d->field + 1] && !hit; j++)
                if (fr[j].key == d->key)
                    hit = &fr[j];
            if (hit)
                buf_add(&res, frags.s + hit->off, hit->len);
            else
                buf_adds(&res, "[]"); /* the related record is deleted */
        }
        buf_add(&res, out->s + prev, out->len - prev);
        struct buf t = *out;
        *out = res;
        res = t;
    }
    free(fr);
    free(first_frag);
    buf_release(&ids);
    buf_release(&frags);
    buf_release(&res);
    return rc;
}

/* Related rows as a JSON array: their ids (has-many members) or, with `expand`, each
 * row rendered with the relation's sub-plan. */
static void render_related(struct ctx *c, const struct outf *o, const struct sql *q, int64_t key,
                           int expand, struct buf *b)
{
    buf_addc(b, '[');
    struct store_stmt *s = records_stmt(c, q);
    if (s) {
        store_bind_int(s, 1, key);
        int first = 1;
        while (store_step(s) == STORE_ROW) {
            jw_sep(b, &first);
            if (expand)
                render_record(c, o->sub, o->nsub, s, b);
            else
                jw_int(b, store_col_int(s, 0));
        }
        store_reset(s);
    }
    buf_addc(b, ']');
}

static void render_record(struct ctx *c, const struct outf *o, int n, struct store_stmt *st,
                          struct buf *b)
{
    buf_adds(b, "{\"id\":");
    jw_int(b, store_col_int(st, 0));
    int64_t id = store_col_int(st, 0);
    for (int i = 0; i < n; i++) {
        size_t mark = b->len;
        if (o[i].key_plain) { /* ,"key": */
            buf_reserve(b, o[i].keylen + 4);
            char *d = b->s + b->len;
            d[0] = ',';
            d[1] = '"';
            memcpy(d + 2, o[i].key, o[i].keylen);
            memcpy(d + 2 + o[i].keylen, "\":", 3);
            b->len += o[i].keylen + 4;
        } else {
            buf_addc(b, ',');
            jw_key(b, o[i].key);
        }
        int null = 0;
        switch (o[i].kind) {
        case K_MANY:
            render_related(c, &o[i], &o[i].manysql, id, 0, b);
            break;
        case K_MAV:
            render_mav(c, &o[i], id, b);
            break;
        case K_REL:
            if (o[i].f->type == FT_HAS_MANY)
                render_related(c, &o[i], &o[i].relsql, id, 1, b);
            else if (store_col_type(st, o[i].col) == STORE_NULL)
                buf_adds(b, "[]");
            else if (batch && &o[i] >= batch->top && &o[i] < batch->top + batch->ntop)
                batch_defer(batch, b->len, store_col_int(st, o[i].col), (int)(&o[i] - batch->top));
            else
                render_related(c, &o[i], &o[i].relsql, store_col_int(st, o[i].col), 1, b);
            break;
        default:
            null = render_value(c, o[i].f, st, o[i].col, b);
        }
        if (null) {
            if (c->version == 2)
                b->len = mark; /* v2 omits nulls */
            else
                buf_adds(b, "null");
        }
    }
    buf_addc(b, '}');
}

/* ---- list ---- */

static int parse_sort(struct ctx *c, const struct class_def *k, struct sql *order)
{
    char err[256];
    json_t *s = params_json(c->params, "sort", err, sizeof err);
    if (!s && err[0]) {
        /* sort=name (a bare word) is a field name, not JSON */
        const char *raw = params_str(c->params, "sort");
        if (raw && registry_field(k, raw))
            s = json_pack("[s]", raw);
        else
            return ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err), -1;
    }
    if (!s) {
        const char *a = params_str(c->params, "sort_attribute");
        if (a) {
            const char *d = params_str(c->params, "sort_order");
            s = json_pack("[ss]", a, d ? d : "asc");
        }
    }
    int rc = 0;
    if (s) {
        json_t *items = s;
        if (json_is_string(s))
            items = json_pack("[[O]]", s);
        else if (json_is_array(s) && json_array_size(s) > 0 && json_is_string(json_array_get(s, 0)))
            items = json_pack("[O]", s);
        else
            json_incref(items);
        if (!json_is_array(items)) {
            rc = -1;
            ctx_error(c, ERR_BAD_PARAM, NULL, "sort must be [\"field\",\"asc|desc\"] or a list");
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (rc || i >= 16)
                break;
            const char *fn = json_string_value(json_array_get(it, 0));
            const char *dir =
                json_array_size(it) > 1 ? json_string_value(json_array_get(it, 1)) : "asc";
            const struct field *f = fn ? registry_field(k, fn) : NULL;
            if (!json_is_array(it) || !fn || !dir || json_array_size(it) > 2) {
                rc = -1;
                ctx_error(c, ERR_BAD_PARAM, NULL, "sort entries must be [\"field\",\"asc|desc\"]");
                break;
            }
            if (!f || !visible(c, f) || f->type == FT_HAS_MANY) {
                rc = -1;
                ctx_error(c, ERR_BAD_PARAM, NULL, "unknown sort field '%.100s' for %s", fn,
                          k->name);
                break;
            }
            if (usable(c, k, f, "sorted by") != 0) {
                rc = -1;
                break;
            }
            int desc = strcasecmp(dir, "desc") == 0;
            if (!desc && strcasecmp(dir, "asc") != 0) {
                rc = -1;
                ctx_error(c, ERR_BAD_PARAM, NULL, "sort direction must be asc or desc, not '%.20s'",
                          dir);
                break;
            }
            registry_sql_ref(order, "t", f);
            sql_append(order, desc ? " DESC, " : " ASC, ");
        }
        json_decref(items);
        json_decref(s);
    }
    sql_append(order, "t.\"id\" ASC");
    return rc;
}

/* `query`: the input split on non-alphanumeric characters (bytes >= 0x80 belong to
 * words), each word a quoted FTS5 phrase, the last one a prefix, all AND-ed. User text
 * never reaches FTS5 as syntax: every word is quoted and the whole match is bound. */
/* What a list's WHERE holds beyond the deleted_at test, for the counting shortcuts. */
struct listw {
    int filtered;   /* a filter, the grantee scope or a deleted= option */
    struct sql fts; /* with a query on live records: the count of the FTS match alone */
};

/* `"table" WHERE <match>`, the query bound (sql_dialect's spelling). */
static void fts_match(struct sql *q, const char *table, const char *m, size_t n)
{
    sql_ident(q, table);
    sql_append(q, " WHERE ");
    sql_appendf(q, sql_dialect->fts_match_open, table);
    sql_bind_text(q, m, n);
    sql_append(q, sql_dialect->fts_match_close);
}

static int fulltext_clause(struct ctx *c, const struct class_def *k, const char *del, struct sql *w,
                           struct listw *lw)
{
    const char *in = params_str(c->params, "query");
    struct buf m;
    int words = 0;
    if (!in)
        return 0;
    if (!store_has_fulltext(k))
        return ctx_error(c, ERR_BAD_PARAM, NULL, "%s has no full-text fields to query", k->name),
               -1;
    buf_init(&m);
    for (const char *p = in; *p && words < 32;) {
        while (*p && !(isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80))
            p++;
        const char *s = p;
        while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80))
            p++;
        if (p == s)
            break;
        if (words++)
            buf_adds(&m, sql_dialect->fts_and);
        buf_addc(&m, sql_dialect->fts_quote);
        buf_add(&m, s, (size_t)(p - s)); /* words hold no quote characters */
        buf_addc(&m, sql_dialect->fts_quote);
        const char *rest = p;
        while (*rest && !(isalnum((unsigned char)*rest) || (unsigned char)*rest >= 0x80))
            rest++;
        if (!*rest || words == 32)
            buf_adds(&m, sql_dialect->fts_prefix); /* the last word matches as a prefix */
    }
    /* Live and soft-deleted records have separate indexes (the engines' schemas):
     * deleted=only searches the second, deleted=include both. */
    static const char *const ends[2] = {"", "_deleted"};
    int from = del && strcmp(del, "only") == 0, to = del ? 1 : 0;
    if (words) {
        sql_append(w, " AND t.\"id\" IN (");
        for (int i = from; i <= to; i++) {
            char table[160];
            snprintf(table, sizeof table, "%s__fts%s", k->name, ends[i]);
            sql_appendf(w, "%sSELECT %s FROM ", i > from ? " UNION ALL " : "", sql_dialect->fts_id);
            fts_match(w, table, m.s, m.len);
        }
        sql_append(w, ")");
        if (!del) {
            char table[160];
            snprintf(table, sizeof table, "%s__fts", k->name);
            sql_append(&lw->fts, "SELECT count(*) FROM ");
            fts_match(&lw->fts, table, m.s, m.len);
        }
    }
    buf_release(&m);
    return 0;
}

static int where_clause(struct ctx *c, const struct class_def *k, struct sql *w, int is_list,
                        struct listw *lw)
{
    char err[512];
    const char *del = is_list ? params_str(c->params, "deleted") : NULL;
    if (del && strcmp(del, "include") && strcmp(del, "only"))
        return ctx_error(c, ERR_BAD_PARAM, NULL, "deleted must be include or only"), -1;
    if (del && !policy_role(&c->p)->deleted)
        return ctx_error(c, ERR_FORBIDDEN, NULL, "deleted records are not listed for %ss",
                         policy_role(&c->p)->name),
               -1;
    if (!is_list)
        sql_append(w, sql_dialect->yes);
    else if (!del)
        sql_append(w, "t.\"deleted_at\" IS NULL");
    else if (strcmp(del, "only") == 0)
        sql_append(w, "t.\"deleted_at\" IS NOT NULL");
    else
        sql_append(w, sql_dialect->yes);
    size_t before = w->len;
    policy_scope(&c->p, k, "t", w);
    if (!is_list)
        return 0;
    lw->filtered = del || w->len != before;
    if (fulltext_clause(c, k, del, w, lw) != 0)
        return -1;
    /* A filter sent as text, compiled for a caller without a scope, is looked up in the
     * thread's cache first (filtercache.h). */
    json_t *raw = json_object_get(c->params, "filter");
    const char *text = json_is_string(raw) ? json_string_value(raw) : NULL;
    size_t tlen = text ? json_string_length(raw) : 0;
    /* Only a caller that reads everything: a scoped caller's filter carries its scope (and
     * user id) into every related class a sub-query reads, even on a class it reads whole. */
    int cacheable = text && policy_role(&c->p)->reads == READS_ALL;
    struct filter_env env = {.who = &c->p};
    if (raw)
        filter_env_site(c->w->db, &env);
    const struct sql *hit =
        cacheable ? filtercache_get(k, text, tlen, &env, dyn_generation()) : NULL;
    if (hit) {
        lw->filtered = 1;
        sql_append(w, " AND ");
        sql_append_sql(w, hit);
        return 0;
    }
    json_t *f = params_json(c->params, "filter", err, sizeof err);
    if (!f && err[0])
        return ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err), -1;
    if (f) {
        lw->filtered = 1;
        int used_now = 0;
        struct sql piece;
        sql_init(&piece);
        env.used_now = &used_now;
        int rc = filter_compile(k, f, "t", &env, &piece, err, sizeof err);
        json_decref(f);
        if (rc != 0) {
            sql_release(&piece);
            return ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err), -1;
        }
        sql_append(w, " AND ");
        sql_append_sql(w, &piece);
        if (cacheable && !used_now)
            filtercache_put(k, text, tlen, &env, dyn_generation(), &piece);
        else
            sql_release(&piece);
    }
    return 0;
}

/* Close the list envelope opened with {"records":{"<class>":[ and send it. */
static void send_list_tail(struct ctx *c, long long total, long long page, long long per)
{
    long long pages = total == 0 ? 1 : (total + per - 1) / per;
    buf_adds(&c->out, "]},\"total_pages\":");
    jw_int(&c->out, pages);
    buf_adds(&c->out, ",\"total_entries\":");
    jw_int(&c->out, total);
    buf_adds(&c->out, ",\"current_page\":");
    jw_int(&c->out, page);
    buf_adds(&c->out, ",\"per_page\":");
    jw_int(&c->out, per);
    buf_addc(&c->out, '}');
    ctx_send(c, 200, "application/json; charset=utf-8");
}

/* ---- aggregation (contract §4): group by fields of the class or of a singular related
 * record, sum/count/avg/min/max; groups sort by their values and page like lists ---- */

enum aggfn { AGG_SUM, AGG_COUNT, AGG_AVG, AGG_MIN, AGG_MAX };

struct aggcol {
    const struct field *f;
    const char *key; /* output key */
    enum aggfn fn;   /* aggregates only */
    int join;        /* group keys: index of the join (-1 none) */
};

static int groupable(const struct field *f)
{
    return !f->expr && (f->type == FT_INT || f->type == FT_STRING || f->type == FT_BOOL ||
                        f->type == FT_DATE || f->type == FT_REF);
}

static int numeric(const struct field *f)
{
    return f->type == FT_INT || f->type == FT_DECIMAL || f->type == FT_FLOAT;
}

/* avg of an exact scaled sum: round half to even at the column's scale. */
static __int128 div_half_even(__int128 sum, int64_t n)
{
    __int128 q = sum / n, r = sum % n;
    if (r < 0) {
        r = -r;
    }
    __int128 twice = r * 2;
    int neg = (sum < 0);
    if (twice > n || (twice == n && (q % 2 != 0)))
        q += neg ? -1 : 1;
    return q;
}

/* A grantd_sum result: a 64-bit integer, or text (text_decimal). */
static __int128 wide_value(struct store_stmt *st, int col, int scale)
{
    __int128 v = 0;
    if (store_col_type(st, col) != STORE_TEXT)
        return store_col_int(st, col);
    const char *s = (const char *)store_col_text(st, col);
    if (s && text_decimal(s, strlen(s), scale, &v) != 0)
        v = 0;
    return v;
}

static void render_agg_value(struct ctx *c, const struct field *f, enum aggfn fn, int is_group,
                             struct store_stmt *st, int col, struct buf *b)
{
    char tmp[48];
    if (store_col_type(st, col) == STORE_NULL) {
        buf_adds(b, "null");
        return;
    }
    if (!is_group && fn == AGG_COUNT) {
        jw_int(b, store_col_int(st, col));
        return;
    }
    if (!is_group && fn == AGG_AVG) {
        /* the statement holds sum at col and count at col + 1 */
        int64_t n = store_col_int(st, col + 1);
        if (f->type == FT_FLOAT) {
            int len = snprintf(tmp, sizeof tmp, "%.15g", store_col_double(st, col) / (double)n);
            buf_add(b, tmp, (size_t)len);
        } else {
            __int128 v =
                div_half_even(wide_value(st, col, f->type == FT_DECIMAL ? f->scale : 0), n);
            buf_add(b, tmp,
                    value_format_decimal_wide(v, f->type == FT_DECIMAL ? f->scale : 0, tmp));
        }
        return;
    }
    if (!is_group && fn == AGG_SUM && f->type != FT_FLOAT) {
        __int128 v = wide_value(st, col, f->type == FT_DECIMAL ? f->scale : 0);
        buf_add(b, tmp, value_format_decimal_wide(v, f->type == FT_DECIMAL ? f->scale : 0, tmp));
        return;
    }
    if (render_value(c, f, st, col, b))
        buf_adds(b, "null");
}

static int records_aggregate(struct ctx *c, long long per, long long page)
{
    const struct class_def *k = c->cls;
    char err[256];
    struct aggcol cols[32];
    int ncols = 0, ngroup = 0, rc = -1;
    const struct field *joins[8];
    int njoins = 0;
    struct sql w, q, sel, grp;
    sql_init(&w);
    sql_init(&q);
    sql_init(&sel);
    sql_init(&grp);
    json_t *group = params_json(c->params, "group", err, sizeof err);
    json_t *agg = NULL;
    if (!group && err[0]) {
        ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err);
        goto out;
    }
    agg = params_json(c->params, "aggregation", err, sizeof err);
    if (!agg && err[0]) {
        ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err);
        goto out;
    }
    if (group && json_is_string(group)) {
        json_t *one = json_pack("[O]", group);
        json_decref(group);
        group = one;
    }
    if ((group && !json_is_array(group)) || (agg && !json_is_object(agg))) {
        ctx_error(c, ERR_BAD_PARAM, NULL,
                  "group must be a JSON array of fields and aggregation an object");
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(group, i, v)
    {
        const char *name = json_string_value(v);
        if (!name || ncols >= 16) {
            ctx_error(c, ERR_BAD_PARAM, NULL, "group entries must be field names (at most 16)");
            goto out;
        }
        const char *dot = strchr(name, '.');
        const struct field *f = NULL;
        int join = -1;
        if (dot) {
            char rel[128];
            snprintf(rel, sizeof rel, "%.*s_id", (int)(dot - name), name);
            const struct field *rf = registry_field(k, rel);
            if (!rf) {
                snprintf(rel, sizeof rel, "%.*s", (int)(dot - name), name);
                rf = registry_field(k, rel);
                if (rf && rf->type == FT_REF_ALIAS)
                    rf = registry_field(k, rf->via);
            }
            const struct class_def *t = rf && rf->type == FT_REF && rf->target
                                            ? registry_class(rf->target, strlen(rf->target))
                                            : NULL;
            f = t ? registry_field(t, dot + 1) : NULL;
            if (!t || !f || !visible(c, f) || !groupable(f) || strchr(dot + 1, '.')) {
                ctx_error(c, ERR_BAD_PARAM, NULL, "cannot group %s by '%.100s'", k->name, name);
                goto out;
            }
            if (usable(c, t, f, "grouped by") != 0)
                goto out;
            for (join = 0; join < njoins && joins[join] != rf; join++)
                ;
            if (join == njoins) {
                if (njoins == 8) {
                    ctx_error(c, ERR_BAD_PARAM, NULL, "too many related records in group");
                    goto out;
                }
                joins[njoins++] = rf;
            }
        } else {
            f = registry_field(k, name);
            if (f && f->type == FT_REF_ALIAS)
                f = registry_field(k, f->via);
            if (!f || !visible(c, f) || !groupable(f)) {
                ctx_error(c, ERR_BAD_PARAM, NULL, "cannot group %s by '%.100s'", k->name, name);
                goto out;
            }
            if (usable(c, k, f, "grouped by") != 0)
                goto out;
        }
        cols[ncols].f = f;
        cols[ncols].key = name;
        cols[ncols].join = join;
        ncols++;
    }
    ngroup = ncols;
    const char *name;
    json_object_foreach(agg, name, v)
    {
        static const char *const fns[] = {"sum", "count", "avg", "min", "max"};
        const char *fn = json_string_value(v);
        const struct field *f = registry_field(k, name);
        int which = -1;
        for (int j = 0; fn && j < 5; j++)
            if (strcmp(fn, fns[j]) == 0)
                which = j;
        if (f && f->type == FT_REF_ALIAS)
            f = registry_field(k, f->via);
        if (!f || !visible(c, f) || !registry_has_column(f) || which < 0 || ncols >= 32) {
            ctx_error(c, ERR_BAD_PARAM, NULL,
                      "aggregation must map fields of %s to sum, count, avg, min or max "
                      "('%.100s')",
                      k->name, name);
            goto out;
        }
        if (usable(c, k, f, "aggregated") != 0)
            goto out;
        if ((which == AGG_SUM || which == AGG_AVG) && !numeric(f)) {
            ctx_error(c, ERR_BAD_PARAM, NULL, "%s of %s: the field is not numeric", fn, f->name);
            goto out;
        }
        char *key = h2o_mem_alloc_pool(&c->req->pool, strlen(name) + 8);
        sprintf(key, "%s_%s", name, fn);
        cols[ncols].f = f;
        cols[ncols].key = key;
        cols[ncols].fn = (enum aggfn)which;
        cols[ncols].join = -1;
        ncols++;
    }
    struct listw lw = {0};
    sql_init(&lw.fts);
    int wrc = where_clause(c, k, &w, 1, &lw);
    sql_release(&lw.fts);
    if (wrc != 0)
        goto out;
    /* SELECT list and GROUP BY: group keys first, then aggregates (avg as sum, count). */
    for (int j = 0; j < ncols; j++) {
        char alias[16];
        if (j)
            sql_append(&sel, ", ");
        if (cols[j].join >= 0)
            snprintf(alias, sizeof alias, "r%d", cols[j].join);
        else
            snprintf(alias, sizeof alias, "t");
        if (j < ngroup) {
            sql_appendf(&sel, "%s.", alias);
            sql_ident(&sel, cols[j].f->name);
            if (j)
                sql_append(&grp, ", ");
            sql_appendf(&grp, "%d", j + 1);
            continue;
        }
        static const char *const sqlfn[] = {"sum", "count", "sum", "min", "max"};
        int exact = (cols[j].fn == AGG_SUM || cols[j].fn == AGG_AVG) && cols[j].f->type != FT_FLOAT;
        /* min/max of a boolean as of its 0/1: PostgreSQL has no min(boolean) */
        int as_int = cols[j].f->type == FT_BOOL && cols[j].fn != AGG_COUNT;
        sql_appendf(&sel, "%s(%st.", exact ? "grantd_sum" : sqlfn[cols[j].fn],
                    as_int ? "CAST(" : "");
        sql_ident(&sel, cols[j].f->name);
        sql_append(&sel, as_int ? " AS integer))" : ")");
        if (cols[j].fn == AGG_AVG) {
            sql_append(&sel, ", count(t.");
            sql_ident(&sel, cols[j].f->name);
            sql_append(&sel, ")");
        }
    }
    if (ncols == 0)
        sql_append(&sel, "count(*)");
    struct sql from;
    sql_init(&from);
    sql_append(&from, " FROM ");
    sql_ident(&from, k->name);
    sql_append(&from, " t");
    for (int j = 0; j < njoins; j++) {
        const struct class_def *t = registry_class(joins[j]->target, strlen(joins[j]->target));
        sql_append(&from, " LEFT JOIN ");
        sql_ident(&from, t->name);
        sql_appendf(&from, " r%d ON r%d.\"id\" = t.", j, j);
        sql_ident(&from, joins[j]->name);
        sql_appendf(&from, " AND r%d.\"deleted_at\" IS NULL", j);
        /* a related record the caller may not read groups as none (null) */
        char ra[16];
        snprintf(ra, sizeof ra, "r%d", j);
        policy_scope(&c->p, t, ra, &from);
    }
    sql_append(&from, " WHERE ");
    sql_append_sql(&from, &w); /* the joins' values, then the WHERE's */
    if (ngroup) {
        sql_append(&from, " GROUP BY ");
        sql_appendn(&from, grp.buf, grp.len);
    }
    /* count of groups */
    sql_append(&q, "SELECT count(*) FROM (SELECT ");
    sql_appendn(&q, sel.buf, sel.len);
    sql_appendn(&q, from.buf, from.len);
    sql_append(&q, ") g");
    struct store_stmt *st = stmt_get(c->w, q.buf, q.len);
    long long total = 0;
    if (!st || store_bind_sql(st, &from) != STORE_OK || store_step(st) != STORE_ROW) {
        sql_release(&from);
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    total = store_col_int(st, 0);
    store_reset(st);
    sql_reset(&q);
    sql_append(&q, "SELECT ");
    sql_appendn(&q, sel.buf, sel.len);
    sql_appendn(&q, from.buf, from.len);
    if (ngroup) {
        sql_append(&q, " ORDER BY ");
        sql_appendn(&q, grp.buf, grp.len);
    }
    sql_appendf(&q, " LIMIT %lld OFFSET %lld", per, (page - 1) * per);
    st = stmt_get(c->w, q.buf, q.len);
    int bound = st && store_bind_sql(st, &from) == STORE_OK;
    sql_release(&from);
    if (!bound) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    buf_adds(&c->out, "{\"records\":{");
    jw_key(&c->out, k->name);
    buf_addc(&c->out, '[');
    int first = 1;
    while (store_step(st) == STORE_ROW) {
        jw_sep(&c->out, &first);
        buf_addc(&c->out, '{');
        int col = 0, f2 = 1;
        for (int j = 0; j < ncols; j++) {
            jw_sep(&c->out, &f2);
            jw_key(&c->out, cols[j].key);
            render_agg_value(c, cols[j].f, cols[j].fn, j < ngroup, st, col, &c->out);
            col += (j >= ngroup && cols[j].fn == AGG_AVG) ? 2 : 1;
        }
        if (ncols == 0) {
            jw_key(&c->out, "id_count");
            jw_int(&c->out, store_col_int(st, 0));
        }
        buf_addc(&c->out, '}');
    }
    store_reset(st);
    send_list_tail(c, total, page, per);
    rc = 0;
out:
    json_decref(group);
    json_decref(agg);
    sql_release(&w);
    sql_release(&q);
    sql_release(&sel);
    sql_release(&grp);
    return rc;
}

/* A page past the end is not read: the count says it is empty. */
static int page_past(long long total, long long page, long long per)
{
    return (page - 1) * per >= total;
}

/* Render the rows of st (NULL: none) as a list page and send it. 0, or -1 after an error
 * answer. */
static int send_page(struct ctx *c, const struct class_def *k, const struct plan *p,
                     struct store_stmt *st, long long total, long long page, long long per)
{
    buf_adds(&c->out, "{\"records\":{");
    jw_key(&c->out, k->name);
    buf_addc(&c->out, '[');
    int first = 1, s = STORE_DONE;
    struct relbatch rb = {.top = p->o, .ntop = p->n};
    batch = &rb;
    while (st && (s = store_step(st)) == STORE_ROW) {
        jw_sep(&c->out, &first);
        render_record(c, p->o, p->n, st, &c->out);
    }
    batch = NULL;
    if (st)
        store_reset(st);
    int bad = s != STORE_DONE || (rb.n && batch_fill(c, &rb, &c->out) != 0);
    free(rb.d);
    if (bad) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        return -1;
    }
    send_list_tail(c, total, page, per);
    return 0;
}

enum { FEW_MATCHES = 200 }; /* a filtered page sorts its matches up to this many */

/* total_entries of a list whose WHERE is w. An unfiltered list reads the live-row count
 * the write transactions keep (db.c); a query alone on live records counts the FTS match
 * without visiting the records; others run the WHERE. Each is taken once per database
 * state (countcache.h): on PostgreSQL a list whose count is cached is one round trip (the
 * page's statement carries the read's BEGIN). q is scratch space. */
static int list_count(struct ctx *c, const struct class_def *k, const struct sql *w,
                      const struct listw *lw, struct sql *q, long long *total)
{
    int plain = w->nargs == 0 && strcmp(w->buf, "t.\"deleted_at\" IS NULL") == 0;
    const struct sql *cq = q;
    struct sql view;
    sql_reset(q);
    if (plain) {
        sql_append(q, "SELECT sum(live) FROM grantd_count WHERE class = ");
        sql_bind_text(q, k->name, strlen(k->name));
        sql_append(q, " HAVING count(*) > 0"); /* one row per shard (store_live_count) */
    } else if (lw->fts.len && !lw->filtered) {
        cq = &lw->fts;
    } else {
        sql_append(q, "SELECT count(*) FROM ");
        sql_ident(q, k->name);
        sql_append(q, " t WHERE ");
        sql_appendn(q, w->buf, w->len);
        view = *q; /* the count's text with the WHERE's values (borrowed, never released) */
        view.args = w->args;
        view.nargs = w->nargs;
        cq = &view;
    }
    struct count_stamp stamp = {-1, -1};
    if (c->read_tx) {
        countcache_stamp(c->w->db, &stamp);
        if (countcache_get(cq, &stamp, total))
            return 0;
    }
    struct store_stmt *st = stmt_get(c->w, cq->buf, cq->len);
    if (!st || store_bind_sql(st, cq) != STORE_OK || store_step(st) != STORE_ROW) {
        if (st)
            store_reset(st);
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        return -1;
    }
    *total = store_col_int(st, 0);
    store_reset(st);
    if (c->read_tx)
        countcache_put(cq, &stamp, *total);
    return 0;
}

int records_list(struct ctx *c)
{
    const struct class_def *k = c->cls;
    struct plan p;
    struct sql w, order, q;
    int rc = -1;
    struct listw lw = {0};
    sql_init(&w);
    sql_init(&order);
    sql_init(&q);
    sql_init(&lw.fts);
    memset(&p, 0, sizeof p);
    long long per = params_posint(c->params, "per_page", 25);
    long long page = params_posint(c->params, "page", -2);
    if (page == -2)
        page = params_posint(c->params, "current_page", 1);
    if (per < 0 || page < 0) {
        ctx_error(c, ERR_BAD_PARAM, NULL, "page and per_page must be positive integers");
        goto out;
    }
    if (per > 500)
        per = 500;
    if (json_object_get(c->params, "group") || json_object_get(c->params, "aggregation")) {
        /* groups sort by their values; a sort parameter is still checked (a masked field
         * stays refused everywhere), then ignored */
        if (parse_sort(c, k, &order) == 0)
            rc = records_aggregate(c, per, page);
        goto out;
    }
    if (plan_build(c, &p, k) != 0 || where_clause(c, k, &w, 1, &lw) != 0 ||
        parse_sort(c, k, &order) != 0)
        goto out;
    long long total;
    if (list_count(c, k, &w, &lw, &q, &total) != 0)
        goto out;
    sql_reset(&q);
    sql_append(&q, "SELECT ");
    sql_appendn(&q, p.cols.buf, p.cols.len);
    sql_append(&q, " FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " t WHERE ");
    int id_order = strcmp(order.buf, "t.\"id\" ASC") == 0;
    const struct sql *args = &w; /* the page's values, then LIMIT and OFFSET */
    if (lw.fts.len && !lw.filtered && id_order) {
        /* A query alone on live records, in id order: the live index holds live records
         * only, and FTS5 yields its matches in rowid order, so it stops after the page
         * instead of producing every match for a sort. */
        char table[160];
        snprintf(table, sizeof table, "%s__fts", k->name);
        sql_appendf(&q, "t.\"id\" IN (SELECT %s FROM ", sql_dialect->fts_id);
        sql_ident(&q, table);
        sql_append(&q, " WHERE ");
        sql_appendf(&q, sql_dialect->fts_match_open, table);
        sql_append(&q, "?");
        sql_appendf(&q, "%s ORDER BY %s LIMIT ? OFFSET ?) ORDER BY t.\"id\"",
                    sql_dialect->fts_match_close, sql_dialect->fts_id);
        args = &lw.fts;
    } else {
        sql_appendn(&q, w.buf, w.len);
        sql_append(&q, " ORDER BY ");
        /* Without statistics the planner answers `ORDER BY id LIMIT 25` under a filter by
         * walking the table in id order whenever no index gives id order, which reads the
         * whole table when few rows match (an incremental sync's `updated_at > last run`).
         * The count is known by now: a page of few matches sorts them instead (`+` keeps
         * the id order from steering the plan), and a page past the end is not read. */
        if (w.nargs && total <= FEW_MATCHES && id_order)
            sql_append(&q, "+");
        sql_appendn(&q, order.buf, order.len);
        /* Paging values are bound: every page of a listing shares one prepared statement. */
        sql_append(&q, " LIMIT ? OFFSET ?");
    }
    struct store_stmt *st = NULL;
    if (!page_past(total, page, per)) {
        st = stmt_get(c->w, q.buf, q.len);
        if (!st || store_bind_sql(st, args) != STORE_OK ||
            store_bind_int(st, args->nargs + 1, per) != STORE_OK ||
            store_bind_int(st, args->nargs + 2, (page - 1) * per) != STORE_OK) {
            ctx_error(c, ERR_INTERNAL, NULL, "internal error");
            goto out;
        }
    }
    rc = send_page(c, k, &p, st, total, page, per);
out:
    records_release_temp(c->w);
    plan_free(&p);
    sql_release(&w);
    sql_release(&order);
    sql_release(&q);
    sql_release(&lw.fts);
    return rc;
}

/* ---- fetch ---- */

/* Record id of class k as the request's cols/relation and the caller's policy render it,
 * into b (a JSON object); `live`: only when not soft-deleted. 1 rendered, 0 missing (or
 * out of scope), -1 after answering an error. */
static int render_record_of(struct ctx *c, const struct class_def *k, int64_t id, int live,
                            struct buf *b, int64_t *version)
{
    struct plan p;
    struct sql q;
    int rc = -1;
    sql_init(&q);
    memset(&p, 0, sizeof p);
    if (plan_build(c, &p, k) != 0)
        goto out;
    sql_append(&q, "SELECT ");
    sql_appendn(&q, p.cols.buf, p.cols.len);
    if (version)
        sql_append(&q, ", t.\"lock_version\"");
    sql_append(&q, " FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " t WHERE t.\"id\" = ");
    sql_bind_int(&q, id);
    if (live)
        sql_append(&q, " AND t.\"deleted_at\" IS NULL");
    policy_scope(&c->p, k, "t", &q);
    struct store_stmt *st = records_stmt(c, &q);
    if (!st) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    int s = store_step(st);
    if (s == STORE_ROW) {
        if (version)
            *version = store_col_int(st, p.ncols);
        render_record(c, p.o, p.n, st, b);
        rc = 1;
    } else if (s == STORE_DONE) {
        rc = 0;
    } else {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
    }
    store_reset(st);
out:
    records_release_temp(c->w);
    plan_free(&p);
    sql_release(&q);
    return rc;
}

int records_render_live(struct ctx *c, const struct class_def *k, int64_t id, struct buf *b)
{
    return render_record_of(c, k, id, 1, b, NULL);
}

int records_render_one(struct ctx *c, int64_t id)
{
    const struct class_def *k = c->cls;
    c->out.len = 0;
    buf_addc(&c->out, '{');
    jw_key(&c->out, k->name);
    int64_t version = 0;
    int rc = render_record_of(c, k, id, 0, &c->out, &version);
    if (rc == 1) { /* the record's version: the answer's ETag (write.c's If-Match) */
        c->etag = version;
        c->has_etag = 1;
    }
    if (rc == 0)
        ctx_error(c, ERR_NOT_FOUND, NULL, "Couldn't find %s with 'id'=%lld", k->camel,
                  (long long)id);
    if (rc != 1)
        return -1;
    buf_addc(&c->out, '}');
    return 0;
}

int records_fetch(struct ctx *c)
{
    if (records_render_one(c, c->id) == 0)
        ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}
