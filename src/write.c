/* The write side of the API: create, update (PUT and PATCH) and soft delete. Each write
 * validates every field first (all failures reported together, nothing written), then
 * runs in a savepoint of the worker's batch transaction that also records workflow
 * transitions; its answer is sent once the batch's commit is on stable storage
 * (durable.h). */
#include "auth.h"
#include "changelog.h"
#include "settings.h"
#include "store.h"
#include "durable.h"
#include "idem.h"
#include "dynattr.h"
#include "jsonw.h"
#include "params.h"
#include "policy.h"
#include "records.h"
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
    const struct field *f;
    struct sqlv v; /* SQLV_NULL clears */
};

struct changes {
    struct change c[256];
    int n;
};

static void add_detail(json_t *details, const struct field *f, const char *name,
                       const char *problem)
{
    json_array_append_new(details,
                          json_pack("{s:s,s:s}", "field", f ? f->name : name, "problem", problem));
}

/* "program_organization_id" -> "Program organization" (Rails' humanize). */
static void humanize(const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, "_id") == 0)
        n -= 3;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++)
        out[o++] = name[i] == '_' ? ' ' : name[i];
    out[o] = 0;
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32);
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* A JSON number as exact decimal text: integers as is; reals through the shortest of
 * %.15g that round-trips (jansson holds a double, exact to 15 significant digits). */
static int number_text(json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    double d = json_real_value(v);
    if (!isfinite(d))
        return -1;
    snprintf(buf, len, "%.15g", d);
    if (strtod(buf, NULL) != d)
        return -2; /* more than 15 significant digits */
    if (strchr(buf, 'e') || strchr(buf, 'E')) {
        snprintf(buf, len, "%.*f", 15, d);
        /* trim trailing zeros of the fixed form */
        char *dot = strchr(buf, '.');
        if (dot) {
            char *e = buf + strlen(buf) - 1;
            while (e > dot && *e == '0')
                *e-- = 0;
            if (e == dot)
                *e = 0;
        }
    }
    return 0;
}

static int convert(const struct field *f, json_t *v, struct sqlv *out, char *problem, size_t plen)
{
    char tmp[64];
    const char *s = json_string_value(v);
    size_t sl = s ? json_string_length(v) : 0;
    memset(out, 0, sizeof *out);
    if (json_is_null(v) || (s && sl == 0)) {
        out->t = SQLV_NULL;
        return 0;
    }
    switch (f->type) {
    case FT_INT:
    case FT_REF:
        out->t = SQLV_INT;
        if (json_is_integer(v)) {
            out->i = json_integer_value(v);
            return 0;
        }
        if (s && value_parse_int(s, sl, &out->i) == 0)
            return 0;
        snprintf(problem, plen, "is not an integer");
        return -1;
    case FT_DECIMAL: {
        int rc;
        out->t = SQLV_INT;
        if (json_is_number(v)) {
            rc = number_text(v, tmp, sizeof tmp);
            if (rc == 0)
                rc = value_parse_decimal(tmp, strlen(tmp), f->scale, &out->i);
        } else if (s) {
            rc = value_parse_decimal(s, sl, f->scale, &out->i);
        } else {
            rc = -1;
        }
        if (rc == 0)
            return 0;
        if (rc == -2)
            snprintf(problem, plen, "has more than 15 significant digits");
        else if (rc == -3)
            snprintf(problem, plen, "has more than %d decimal places", f->scale);
        else
            snprintf(problem, plen, "is not a decimal number");
        return -1;
    }
    case FT_FLOAT:
        out->t = SQLV_REAL;
        if (json_is_number(v)) {
            out->d = json_number_value(v);
            return 0;
        }
        if (s) {
            char *end;
            char b[64];
            snprintf(b, sizeof b, "%.*s", (int)(sl < 63 ? sl : 63), s);
            out->d = strtod(b, &end);
            if (*end == 0 && end != b && isfinite(out->d))
                return 0;
        }
        snprintf(problem, plen, "is not a number");
        return -1;
    case FT_BOOL:
        out->t = SQLV_INT;
        if (json_is_boolean(v)) {
            out->i = json_is_true(v);
            return 0;
        }
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
            out->i = json_integer_value(v);
            return 0;
        }
        if (s &&
            (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "false") || !strcmp(s, "0"))) {
            out->i = !strcmp(s, "true") || !strcmp(s, "1");
            return 0;
        }
        snprintf(problem, plen, "is not a boolean");
        return -1;
    case FT_DATE:
        if (s && value_parse_date(s, sl, NULL) == 0) {
            out->t = SQLV_TEXT;
            out->s = xstrndup(s, sl);
            out->i = (int64_t)sl;
            return 0;
        }
        snprintf(problem, plen, "is not a date (YYYY-MM-DD)");
        return -1;
    case FT_DATETIME:
        out->t = SQLV_INT;
        if (s && value_parse_datetime(s, sl, &out->i) == 0)
            return 0;
        snprintf(problem, plen, "is not a datetime (RFC 3339 or YYYY-MM-DD)");
        return -1;
    default: { /* string, text */
        int maxlen = f->maxlen ? f->maxlen : f->type == FT_TEXT ? 65535 : 255;
        if (json_is_number(v) && number_text(v, tmp, sizeof tmp) == 0) {
            s = tmp;
            sl = strlen(tmp);
        }
        if (!s) {
            snprintf(problem, plen, "is not a string");
            return -1;
        }
        if (utf8_chars(s, sl) > (size_t)maxlen) {
            snprintf(problem, plen, "is too long (maximum is %d characters)", maxlen);
            return -1;
        }
        if (f->enumvals) {
            const char *e = f->enumvals;
            int ok = 0;
            while (*e && !ok) {
                size_t l = strcspn(e, "|");
                ok = l == sl && memcmp(e, s, l) == 0;
                e += l + (e[l] == '|');
            }
            if (!ok) {
                snprintf(problem, plen, "is not one of %s", f->enumvals);
                return -1;
            }
        }
        out->t = SQLV_TEXT;
        out->s = xstrndup(s, sl);
        out->i = (int64_t)sl;
        return 0;
    }
    }
}

static void changes_free(struct changes *ch)
{
    for (int i = 0; i < ch->n; i++)
        free(ch->c[i].v.s);
    ch->n = 0;
}

static struct change *find_change(struct changes *ch, const char *name)
{
    for (int i = 0; i < ch->n; i++)
        if (strcmp(ch->c[i].f->name, name) == 0)
            return &ch->c[i];
    return NULL;
}

static void bind_value(struct sql *q, const struct field *f, const struct sqlv *v)
{
    switch (v->t) {
    case SQLV_INT:
        registry_bind(q, f, v->i);
        break;
    case SQLV_REAL:
        sql_bind_real(q, v->d);
        break;
    case SQLV_TEXT:
        sql_bind_text(q, v->s, (size_t)v->i);
        break;
    default:
        sql_bind_null(q);
    }
}

/* Collect and convert `data`. Returns 0; -1 when it already answered (403/103). */
static int collect(struct ctx *c, json_t *data, int is_create, struct changes *ch, json_t *details)
{
    const struct class_def *k = c->cls;
    const char *key;
    json_t *v;
    char problem[160];
    json_object_foreach(data, key, v)
    {
        const struct field *f = registry_field(k, key);
        json_t *val = v;
        if (!f && json_is_object(v)) {
            /* "program": {"id": 12} sets program_id */
            char idname[160];
            snprintf(idname, sizeof idname, "%s_id", key);
            const struct field *g = registry_field(k, idname);
            if (g && g->type == FT_REF)
                f = g;
        }
        if (f && f->type == FT_REF_ALIAS)
            f = registry_field(k, f->via);
        if (f && json_is_object(val)) {
            if (f->type != FT_REF) {
                add_detail(details, f, key, "must not be an object");
                continue;
            }
            val = json_object_get(val, "id");
            if (!val) {
                add_detail(details, f, key, "needs an id");
                continue;
            }
        }
        if (!f || (f->flags & (FF_SECRET | FF_READONLY | FF_SERVER)) || !registry_has_column(f)) {
            ctx_ignore(c, key);
            continue;
        }
        char why[160];
        if (!policy_may_set_field(&c->p, k, f, is_create, why, sizeof why)) {
            ctx_error(c, ERR_FORBIDDEN, NULL, "%s", why);
            return -1;
        }
        if (find_change(ch, f->name))
            continue;
        if (ch->n >= (int)(sizeof ch->c / sizeof ch->c[0])) {
            ctx_error(c, ERR_BAD_PARAM, NULL, "too many fields in data");
            return -1;
        }
        struct change *x = &ch->c[ch->n];
        if (convert(f, val, &x->v, problem, sizeof problem) != 0) {
            add_detail(details, f, key, problem);
            continue;
        }
        x->f = f;
        ch->n++;
    }
    return 0;
}

enum { OUT_OF_SCOPE = 0, READ_SCOPE = 1, WRITE_SCOPE = 2 };

/* A select-list expression over alias t: WRITE_SCOPE when the caller may act on the row,
 * else READ_SCOPE (the query's WHERE keeps it to the read scope). */
static void append_scope_level(struct ctx *c, const struct class_def *k, struct sql *q)
{
    sql_appendf(q, "CASE WHEN %s", sql_dialect->yes);
    policy_write_scope(&c->p, k, "t", q);
    sql_append(q, " THEN 2 ELSE 1 END");
}

/* Where record id of class k stands for the caller (policy.h): missing (or deleted, with
 * live), outside its read scope, inside it, or inside what it may also act on. */
static int scope_of(struct ctx *c, const struct class_def *k, int64_t id, int live)
{
    struct sql q;
    sql_init(&q);
    sql_append(&q, "SELECT ");
    append_scope_level(c, k, &q);
    sql_append(&q, " FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " t WHERE t.\"id\" = ");
    sql_bind_int(&q, id);
    if (live)
        sql_append(&q, " AND t.\"deleted_at\" IS NULL");
    policy_scope(&c->p, k, "t", &q);
    struct store_stmt *st = records_stmt(c, &q);
    int rc = OUT_OF_SCOPE;
    if (st && store_step(st) == STORE_ROW)
        rc = (int)store_col_int(st, 0);
    if (st)
        store_reset(st);
    sql_release(&q);
    return rc;
}

/* Required fields, references. */
static void check_rules(struct ctx *c, struct changes *ch, int is_create, json_t *details,
                        int *forbidden, char *forbidden_why)
{
    const struct class_def *k = c->cls;
    char msg[200];
    for (int i = 0; i < k->nfields; i++) {
        const struct field *f = &k->fields[i];
        if (!(f->flags & FF_REQUIRED))
            continue;
        struct change *x = find_change(ch, f->name);
        if ((is_create && (!x || x->v.t == SQLV_NULL)) || (!is_create && x && x->v.t == SQLV_NULL))
            add_detail(details, f, f->name, "can't be blank");
    }
    for (int i = 0; i < ch->n; i++) {
        const struct field *f = ch->c[i].f;
        if (f->type != FT_REF || ch->c[i].v.t != SQLV_INT || !f->target)
            continue;
        const struct class_def *t = registry_class(f->target, strlen(f->target));
        if (!t)
            continue;
        /* A reference the writer could not read is refused exactly as a missing one, so
         * that a write cannot probe for records outside its scope. */
        int where = scope_of(c, t, ch->c[i].v.i, 1);
        if (where == OUT_OF_SCOPE) {
            snprintf(msg, sizeof msg, "refers to a missing %s (id %lld)", t->name,
                     (long long)ch->c[i].v.i);
            add_detail(details, f, f->name, msg);
        } else if (where != WRITE_SCOPE && policy_membership_ref(k, f) && !*forbidden) {
            snprintf(forbidden_why, 160, "%s may not link a user of a higher role",
                     policy_role(&c->p)->name);
            *forbidden = 1;
        }
    }
}

static const char *change_text(struct changes *ch, const char *name)
{
    struct change *x = find_change(ch, name);
    return x && x->v.t == SQLV_TEXT ? x->v.s : NULL;
}

/* A new model_attribute adds its column in this transaction (dynattr.c); its identity
 * (class, name, type) cannot change afterwards. */
static void model_attribute_rules(struct ctx *c, struct changes *ch, int is_create, json_t *details)
{
    static const char *const fixed[] = {"model_type", "name", "attribute_type"};
    char problem[160];
    const char *at = NULL;
    if (!is_create) {
        for (int i = 0; i < 3; i++)
            if (find_change(ch, fixed[i]))
                add_detail(details, NULL, fixed[i], "can't be changed once the field exists");
        return;
    }
    if (dyn_add_column(c->w->db, change_text(ch, "model_type"), change_text(ch, "name"),
                       change_text(ch, "attribute_type"), problem, sizeof problem, &at) != 0)
        add_detail(details, NULL, at, problem);
}

static int validation_error(struct ctx *c, json_t *details)
{
    struct buf m;
    char h[200];
    buf_init(&m);
    buf_adds(&m, "#<Exception: [");
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d)
    {
        const char *f = json_string_value(json_object_get(d, "field"));
        const char *p = json_string_value(json_object_get(d, "problem"));
        humanize(f ? f : "", h, sizeof h);
        if (i)
            buf_adds(&m, ", ");
        buf_addc(&m, '"');
        buf_adds(&m, h);
        buf_addc(&m, ' ');
        buf_adds(&m, p ? p : "is invalid");
        buf_addc(&m, '"');
    }
    buf_adds(&m, "]>");
    ctx_error(c, ERR_VALIDATION, details, "%s", m.s);
    buf_release(&m);
    return 0;
}

static const char *state_list(const struct class_def *k, const char *from, char *out, size_t outlen)
{
    out[0] = 0;
    for (int i = 0; i < k->wf->ntransitions; i++) {
        if (strcmp(k->wf->transitions[i].from, from) != 0)
            continue;
        if (out[0])
            strncat(out, ", ", outlen - strlen(out) - 1);
        strncat(out, k->wf->transitions[i].to, outlen - strlen(out) - 1);
    }
    return out[0] ? out : "none";
}

/* An INSERT's new id in its own round trip where the dialect can (`RETURNING "id"`,
 * appended to q by returning_id, which says whether it did), else store_last_id. */
static int returning_id(struct sql *q)
{
    if (sql_dialect->insert_returning)
        sql_append(q, " RETURNING \"id\"");
    return sql_dialect->insert_returning;
}

static int step_insert(struct ctx *c, struct store_stmt *st, int returning, int64_t *id)
{
    if (store_step(st) != (returning ? STORE_ROW : STORE_DONE))
        return -1;
    *id = returning ? store_col_int(st, 0) : store_last_id(c->w->db);
    return 0;
}

static int record_event(struct ctx *c, int64_t id, const char *old_state, const char *new_state,
                        int64_t now, struct changelog_batch *log)
{
    const struct class_def *we = registry_class("workflow_event", 14);
    if (!we)
        return 0;
    struct sql q, vals;
    sql_init(&q);
    sql_init(&vals);
    sql_append(&q, "INSERT INTO \"workflow_event\"(\"created_at\", \"updated_at\"");
    sql_bind_as(&vals, now, SQLK_TIME, 0);
    sql_append(&vals, ", ");
    sql_bind_as(&vals, now, SQLK_TIME, 0);
    struct {
        const char *name;
        int kind; /* 0 text, 1 int */
        const char *s;
        int64_t i;
    } cols[] = {
        {"workflowable_type", 0, c->cls->camel, 0},
        {"workflowable_id", 1, NULL, id},
        {"old_state", 0, old_state, 0},
        {"new_state", 0, new_state, 0},
        {"created_by_id", 1, NULL, c->p.user_id},
        {"updated_by_id", 1, NULL, c->p.user_id},
        {"change_type", 0, "state", 0},
    };
    char own[80];
    snprintf(own, sizeof own, "%s_id", c->cls->name); /* backs <class>.workflow_events */
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (!registry_field(we, cols[i].name))
            continue;
        sql_append(&q, ", ");
        sql_ident(&q, cols[i].name);
        sql_append(&vals, ", ");
        if (cols[i].kind == 1)
            sql_bind_int(&vals, cols[i].i);
        else if (cols[i].s)
            sql_bind_text(&vals, cols[i].s, strlen(cols[i].s));
        else
            sql_bind_null(&vals);
    }
    const struct field *ownf = registry_field(we, own);
    if (ownf && ownf->type == FT_REF) {
        sql_append(&q, ", ");
        sql_ident(&q, ownf->name);
        sql_append(&vals, ", ");
        sql_bind_int(&vals, id);
    }
    sql_append(&q, ") VALUES(");
    sql_appendn(&q, vals.buf, vals.len);
    sql_append(&q, ")");
    int returning = returning_id(&q);
    struct store_stmt *st = stmt_get(c->w, q.buf, q.len);
    int64_t event_id = 0;
    int rc =
        st && store_bind_sql(st, &vals) == STORE_OK && step_insert(c, st, returning, &event_id) == 0
            ? 0
            : -1;
    if (st)
        store_reset(st);
    if (rc == 0) {
        struct changelog_fields cf = {.n = 0};
        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
            if (registry_field(we, cols[i].name))
                changelog_field(&cf, cols[i].name);
        if (ownf && ownf->type == FT_REF)
            changelog_field(&cf, ownf->name);
        rc = changelog_add(log, we->name, event_id, CHANGE_CREATE, &cf, now);
    }
    sql_release(&q);
    sql_release(&vals);
    return rc;
}

/* Promotion to a grant flips grant_request.granted, as Fluxx does. */
static int granted_state(const struct class_def *k, const char *state)
{
    return strcmp(k->name, "grant_request") == 0 &&
           (strcmp(state, "granted") == 0 || strcmp(state, "closed") == 0);
}

/* A write runs in a savepoint of the worker's batch transaction (durable.h), or in a
 * transaction of its own when group commit is off. */
static int begin(struct ctx *c)
{
    int rc = -1;
    /* Field definitions are published to every thread, and user changes flush the token
     * cache, right after their commit: these run alone, outside batches. */
    if (strcmp(c->cls->name, "model_attribute") == 0 || strcmp(c->cls->name, "user") == 0)
        durable_batch_end(c->w);
    else
        rc = durable_batch_begin(c->w, 1);
    if (rc == 0 ||
        (rc == -1 && store_begin(c->w->db, 1) == 0 && store_fulltext_defer(c->w->db) == 0))
        return 0;
    if (rc == -1 && !!store_in_transaction(c->w->db))
        store_exec(c->w->db, "ROLLBACK", NULL, 0);
    ctx_error(c, ERR_UNAVAILABLE, NULL, "the database is busy; retry");
    return -1;
}

static void rollback(struct ctx *c)
{
    if (durable_batch_open(c->w))
        durable_batch_undo(c->w);
    else
        store_exec(c->w->db, "ROLLBACK", NULL, 0);
}

static int commit(struct ctx *c)
{
    int rc;
    if (durable_batch_open(c->w))
        rc = durable_batch_release(c->w); /* the batch indexes and commits at its end */
    else
        rc = store_fulltext_sync(c->w->db) == 0 ? store_exec(c->w->db, "COMMIT", NULL, 0) : -1;
    if (rc != 0) {
        rollback(c);
        ctx_error(c, ERR_UNAVAILABLE, NULL, "the database is busy; retry");
        return -1;
    }
    return 0;
}

/* Record id of the request's class as the caller finds it before a write: 0 when it is
 * missing or outside the caller's read scope (answered 102, as a missing record), else
 * READ_SCOPE or WRITE_SCOPE (policy_write_scope: a user of a higher rank is visible but
 * not the caller's to change). The current state goes into state (classes with one). */
static int load_current(struct ctx *c, int64_t id, char *state, size_t slen, int *deleted,
                        int64_t *version)
{
    struct sql q;
    sql_init(&q);
    sql_append(&q, "SELECT t.\"deleted_at\", ");
    append_scope_level(c, c->cls, &q);
    sql_append(&q, ", t.\"lock_version\"");
    if (c->cls->wf)
        sql_append(&q, ", t.\"state\"");
    sql_append(&q, " FROM ");
    sql_ident(&q, c->cls->name);
    sql_append(&q, " t WHERE t.\"id\" = ");
    sql_bind_int(&q, id);
    policy_scope(&c->p, c->cls, "t", &q);
    struct store_stmt *st = records_stmt(c, &q);
    int found = 0;
    state[0] = 0;
    if (st && store_step(st) == STORE_ROW) {
        found = (int)store_col_int(st, 1);
        *deleted = store_col_type(st, 0) != STORE_NULL;
        if (version)
            *version = store_col_int(st, 2);
        if (c->cls->wf && store_col_type(st, 3) != STORE_NULL)
            snprintf(state, slen, "%s", (const char *)store_col_text(st, 3));
    }
    if (st)
        store_reset(st);
    sql_release(&q);
    return found;
}

/* May the caller change or delete record id (found at `where` by load_current)? The
 * record itself must be the caller's to act on, and so must the user a membership row
 * names (policy_membership_ref): removing an admin's affiliation acts on the admin.
 * 0, or -1 after answering 403. */
static int may_act(struct ctx *c, int64_t id, int where)
{
    const struct class_def *k = c->cls;
    const char *name = policy_role(&c->p)->name;
    if (where != WRITE_SCOPE)
        return ctx_error(c, ERR_FORBIDDEN, NULL, "%s may not change a user of a higher role", name),
               -1;
    for (int i = 0; i < k->nfields; i++) {
        const struct field *f = &k->fields[i];
        if (f->type != FT_REF || !policy_membership_ref(k, f))
            continue;
        struct sql q;
        sql_init(&q);
        sql_append(&q, "SELECT ");
        sql_ident(&q, f->name);
        sql_append(&q, " FROM ");
        sql_ident(&q, k->name);
        sql_append(&q, " WHERE \"id\" = ");
        sql_bind_int(&q, id);
        struct store_stmt *st = records_stmt(c, &q);
        int64_t uid = 0;
        if (st && store_step(st) == STORE_ROW)
            uid = store_col_int(st, 0);
        if (st)
            store_reset(st);
        sql_release(&q);
        const struct class_def *t = registry_class(f->target, strlen(f->target));
        if (uid && t && scope_of(c, t, uid, 0) == READ_SCOPE)
            return ctx_error(c, ERR_FORBIDDEN, NULL,
                             "%s may not change a link of a user of a higher role", name),
                   -1;
    }
    return 0;
}

/* ---- record rules (docs/payments.md): checked on the row as written, inside the write's
 * savepoint; a violation undoes the write and answers a validation error naming the rule.
 * Each rule is judged only when the write concerns it, so that an older record that breaks
 * one stays editable in its other fields. ---- */

enum rule_when {
    WHEN_FIELDS, /* a create, or an update of one of `arg`'s fields (comma-separated) */
    WHEN_ENTER,  /* the record enters state `arg` */
    WHEN_LEAVE,  /* the record leaves state `arg` */
};

struct rule {
    const char *name, *cls, *field;
    enum rule_when when;
    const char *arg;
    const char *broken; /* SQL: 1 when the written row t breaks the rule (NULL: admin_only) */
    const char *problem;
    unsigned admin_override : 1; /* an admin passes it with override_rules=<name> */
    unsigned admin_only : 1;     /* nobody but an admin does it */
};

static const struct rule rules[] = {
    {"amount_paid_within_due", "request_transaction", "amount_paid", WHEN_FIELDS,
     "amount_paid,amount_due", "CASE WHEN t.\"amount_paid\" > t.\"amount_due\" THEN 1 ELSE 0 END",
     "is more than amount_due", 0, 0},
    {"paid_at_when_paid", "request_transaction", "paid_at", WHEN_ENTER, "paid",
     "CASE WHEN t.\"paid_at\" IS NULL THEN 1 ELSE 0 END", "can't be blank for a paid payment", 0,
     0},
    {"payments_within_grant", "request_transaction", "amount_due", WHEN_FIELDS,
     "amount_due,request_id",
     "CASE WHEN (SELECT sum(x.\"amount_due\") FROM \"request_transaction\" x WHERE "
     "x.\"request_id\" = t.\"request_id\" AND x.\"deleted_at\" IS NULL) > (SELECT "
     "g.\"amount_recommended\" FROM \"grant_request\" g WHERE g.\"id\" = t.\"request_id\") THEN 1 "
     "ELSE 0 END",
     "brings the grant's payments above its amount_recommended", 1, 0},
    {"paid_stays_paid", "request_transaction", "state", WHEN_LEAVE, "paid", NULL,
     "can leave paid only by an admin's write", 0, 1},
};

static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

/* The rules of the written record id (its old state cur, new state new_state) into
 * details; -1 when a check could not run. */
static int record_rules(struct ctx *c, struct changes *ch, int is_create, int64_t id,
                        const char *cur, const char *new_state, json_t *details)
{
    int admin = policy_role(&c->p)->rank == RANK_ADMIN;
    const char *overrides = params_str(c->params, "override_rules");
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct rule *r = &rules[i];
        if (strcmp(r->cls, c->cls->name) != 0)
            continue;
        int concerned = 0;
        if (r->when == WHEN_FIELDS) {
            concerned = is_create;
            for (int j = 0; j < ch->n && !concerned; j++)
                concerned = listed(r->arg, ch->c[j].f->name);
        } else if (r->when == WHEN_ENTER) {
            concerned = new_state && strcmp(new_state, r->arg) == 0 &&
                        (is_create || strcmp(cur, r->arg) != 0);
        } else {
            concerned = !is_create && strcmp(cur, r->arg) == 0 && new_state &&
                        strcmp(new_state, r->arg) != 0;
        }
        if (!concerned || (admin && r->admin_override && listed(overrides, r->name)))
            continue;
        int broken = r->admin_only && !admin;
        if (r->broken) {
            struct sql q;
            sql_init(&q);
            sql_appendf(&q, "SELECT %s FROM ", r->broken);
            sql_ident(&q, r->cls);
            sql_append(&q, " t WHERE t.\"id\" = ");
            sql_bind_int(&q, id);
            struct store_stmt *st = records_stmt(c, &q);
            int rc = st ? store_step(st) : STORE_ERROR;
            if (rc == STORE_ROW)
                broken = store_col_int(st, 0) != 0;
            if (st)
                store_reset(st);
            sql_release(&q);
            if (rc != STORE_ROW)
                return -1;
        }
        if (broken)
            json_array_append_new(details, json_pack("{s:s,s:s,s:s}", "field", r->field, "problem",
                                                     r->problem, "rule", r->name));
    }
    return 0;
}

/* ---- optimistic locking: If-Match against the record's version (its ETag, "v<N>") ---- */

struct if_match {
    int kind; /* 0: no If-Match; 1: `*` (any current record); 2: the versions in v */
    int n;
    int64_t v[16];
};

/* If-Match's entity tags (RFC 9110 13.1.1, every header line): `*`, or a list of which
 * only grantd's strong tags "v<N>" can match (a weak tag never does, by strong comparison). */
static void read_if_match(struct ctx *c, struct if_match *m)
{
    memset(m, 0, sizeof *m);
    for (ssize_t i = -1; (i = h2o_find_header(&c->req->headers, H2O_TOKEN_IF_MATCH, i)) != -1;) {
        const char *p = c->req->headers.entries[i].value.base;
        const char *end = p + c->req->headers.entries[i].value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *t = p;
            while (p < end && *p != ',')
                p++;
            const char *te = p;
            while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
                te--;
            if (te == t)
                continue;
            if (te - t == 1 && *t == '*') {
                m->kind = 1;
                continue;
            }
            if (m->kind == 0)
                m->kind = 2;
            int64_t v;
            if (te - t >= 4 && t[0] == '"' && t[1] == 'v' && te[-1] == '"' &&
                value_parse_int(t + 2, (size_t)(te - t - 3), &v) == 0 && v >= 0 &&
                m->n < (int)(sizeof m->v / sizeof m->v[0]))
                m->v[m->n++] = v;
        }
    }
}

/* Does the site require If-Match on writes of this class (setting require_if_match)? */
static int if_match_required(struct ctx *c)
{
    return listed(c->w->site.require_if_match, c->cls->name);
}

/* Before a write that needs nothing of the record: 428 when the site requires If-Match and
 * it is absent. 0 to go on, -1 answered. */
static int if_match_present(struct ctx *c, const struct if_match *m)
{
    if (m->kind || !if_match_required(c))
        return 0;
    ctx_error(c, ERR_PRECONDITION_REQUIRED, NULL,
              "this site requires If-Match on writes of %s: send the ETag of your last fetch "
              "of the record",
              c->cls->name);
    return -1;
}

/* With the record's current version: 412 when If-Match names none of it. 0 to go on. */
static int if_match_holds(struct ctx *c, const struct if_match *m, int64_t id, int64_t current)
{
    if (m->kind != 2)
        return 0;
    for (int i = 0; i < m->n; i++)
        if (m->v[i] == current)
            return 0;
    ctx_error(c, ERR_PRECONDITION_FAILED, NULL,
              "%s %lld has changed since the version If-Match names: it is now \"v%lld\"; "
              "fetch it again and retry",
              c->cls->camel, (long long)id, (long long)current);
    return -1;
}

/* The version held when load_current read it, gone by the UPDATE: another writer committed
 * in between (PostgreSQL). Answers 412; -1. */
static int if_match_lost(struct ctx *c, int64_t id)
{
    ctx_error(c, ERR_PRECONDITION_FAILED, NULL,
              "%s %lld has changed since the version If-Match names; fetch it again and retry",
              c->cls->camel, (long long)id);
    return -1;
}

/* A repeat of an idempotent write (idem.h): nothing of it stays, and its stored answer
 * leaves once that is durable (the first may have committed in this very batch). */
static void send_replay(struct ctx *c)
{
    rollback(c);
    c->durable = 1;
    ctx_send(c, c->status, "application/json; charset=utf-8");
}

static int write_record(struct ctx *c, int is_create)
{
    const struct class_def *k = c->cls;
    char err[256], cur[64] = "", allowed[512];
    struct changes *ch = xcalloc(1, sizeof *ch);
    json_t *details = json_array();
    json_t *data = params_json(c->params, "data", err, sizeof err);
    struct sql q, vals;
    struct changelog_batch log = {.n = 0};
    struct if_match im;
    struct idem ik;
    int in_tx = 0, deleted = 0;
    int64_t now = now_unix(), id = c->id, version = 0;
    sql_init(&q);
    sql_init(&vals);
    if (!data && err[0]) {
        ctx_error(c, ERR_BAD_PARAM, NULL, "%s", err);
        goto out;
    }
    if (!data)
        data = json_object();
    if (!json_is_object(data)) {
        ctx_error(c, ERR_BAD_PARAM, NULL, "data must be a JSON object");
        goto out;
    }
    read_if_match(c, &im);
    if ((!is_create && if_match_present(c, &im) != 0) || idem_read(c, &ik) != 0)
        goto out;
    if (collect(c, data, is_create, ch, details) != 0)
        goto out;
    if (begin(c) != 0)
        goto out;
    in_tx = 1;
    int replay = idem_lookup(c, &ik);
    if (replay == 1) {
        send_replay(c);
        in_tx = 0;
    }
    if (replay != 0)
        goto out;
    int where = is_create ? WRITE_SCOPE : load_current(c, id, cur, sizeof cur, &deleted, &version);
    if (!where) {
        ctx_error(c, ERR_NOT_FOUND, NULL, "Couldn't find %s with 'id'=%lld", k->camel,
                  (long long)id);
        goto out;
    }
    if (!is_create && (may_act(c, id, where) != 0 || if_match_holds(c, &im, id, version) != 0))
        goto out;
    struct change *role = strcmp(k->name, "user") == 0 ? find_change(ch, "role") : NULL;
    if (role && role->v.t == SQLV_TEXT && !policy_may_give_role(&c->p, role->v.s)) {
        ctx_error(c, ERR_FORBIDDEN, NULL, "%s may not give the role '%.20s'",
                  policy_role(&c->p)->name, role->v.s);
        goto out;
    }
    int forbidden = 0;
    char forbidden_why[160];
    check_rules(c, ch, is_create, details, &forbidden, forbidden_why);
    if (forbidden) {
        ctx_error(c, ERR_FORBIDDEN, NULL, "%s", forbidden_why);
        goto out;
    }
    struct change *st = k->wf ? find_change(ch, "state") : NULL;
    const char *new_state = NULL;
    if (k->wf && is_create && !st)
        new_state = k->wf->states[0];
    if (st && st->v.t == SQLV_TEXT) {
        new_state = st->v.s;
        if (!registry_is_state(k, new_state)) {
            add_detail(details, st->f, "state", "is not a state of this workflow");
            new_state = NULL;
        }
    } else if (st) {
        add_detail(details, st->f, "state", "can't be blank");
    }
    if (strcmp(k->name, "model_attribute") == 0 && json_array_size(details) == 0)
        model_attribute_rules(c, ch, is_create, details);
    if (json_array_size(details) > 0) {
        rollback(c);
        in_tx = 0;
        validation_error(c, details);
        goto out;
    }
    if (!is_create && new_state && cur[0] && strcmp(cur, new_state) != 0 &&
        !registry_transition_ok(k, cur, new_state)) {
        rollback(c);
        in_tx = 0;
        ctx_error(c, ERR_TRANSITION, NULL,
                  "%s %lld cannot move from state '%s' to '%s'; allowed: %s", k->camel,
                  (long long)id, cur, new_state, state_list(k, cur, allowed, sizeof allowed));
        goto out;
    }
    if (is_create) {
        sql_append(&q, "INSERT INTO ");
        sql_ident(&q, k->name);
        sql_append(&q, "(\"created_at\", \"updated_at\"");
        sql_bind_as(&vals, now, SQLK_TIME, 0);
        sql_append(&vals, ", ");
        sql_bind_as(&vals, now, SQLK_TIME, 0);
        if (!find_change(ch, "created_by_id")) {
            sql_append(&q, ", \"created_by_id\"");
            sql_append(&vals, ", ");
            sql_bind_int(&vals, c->p.user_id);
        }
        if (!find_change(ch, "updated_by_id")) {
            sql_append(&q, ", \"updated_by_id\"");
            sql_append(&vals, ", ");
            sql_bind_int(&vals, c->p.user_id);
        }
        if (new_state && !st) {
            sql_append(&q, ", \"state\"");
            sql_append(&vals, ", ");
            sql_bind_text(&vals, new_state, strlen(new_state));
        }
        if (strcmp(k->name, "user") == 0 && !find_change(ch, "role")) {
            sql_append(&q, ", \"role\"");
            sql_append(&vals, ", 'grantee'"); /* least privilege unless an admin says so */
        }
        for (int i = 0; i < ch->n; i++) {
            sql_append(&q, ", ");
            sql_ident(&q, ch->c[i].f->name);
            sql_append(&vals, ", ");
            bind_value(&vals, ch->c[i].f, &ch->c[i].v);
        }
        sql_append(&q, ") VALUES(");
        sql_appendn(&q, vals.buf, vals.len);
        sql_append(&q, ")");
    } else {
        sql_append(&q, "UPDATE ");
        sql_ident(&q, k->name);
        sql_append(&q, " SET \"lock_version\" = \"lock_version\" + 1, \"updated_at\" = ");
        sql_bind_as(&q, now, SQLK_TIME, 0);
        if (!find_change(ch, "updated_by_id")) {
            sql_append(&q, ", \"updated_by_id\" = ");
            sql_bind_int(&q, c->p.user_id);
        }
        for (int i = 0; i < ch->n; i++) {
            sql_append(&q, ", ");
            sql_ident(&q, ch->c[i].f->name);
            sql_append(&q, " = ");
            bind_value(&q, ch->c[i].f, &ch->c[i].v);
        }
        if (new_state && granted_state(k, new_state) && !find_change(ch, "granted"))
            sql_appendf(&q, ", \"granted\" = %s", sql_dialect->yes);
        sql_append(&q, " WHERE \"id\" = ");
        sql_bind_int(&q, id);
        if (im.kind == 2) { /* a writer that committed since load_current (PostgreSQL) */
            sql_append(&q, " AND \"lock_version\" = ");
            sql_bind_int(&q, version);
        }
    }
    int returning = is_create && returning_id(&q);
    const struct sql *exec = is_create ? &vals : &q;
    struct store_stmt *s = stmt_get(c->w, q.buf, q.len);
    if (!s || store_bind_sql(s, exec) != STORE_OK ||
        (is_create ? step_insert(c, s, returning, &id) != 0 : store_step(s) != STORE_DONE)) {
        if (s)
            store_reset(s);
        fprintf(stderr, "write failed on %s: %s\n", k->name, store_errmsg(c->w->db));
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    store_reset(s);
    if (!is_create && im.kind == 2 && store_changes(c->w->db) == 0) {
        if_match_lost(c, id);
        goto out;
    }
    if (record_rules(c, ch, is_create, id, cur, new_state, details) != 0) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    if (json_array_size(details) > 0) {
        rollback(c);
        in_tx = 0;
        validation_error(c, details);
        goto out;
    }
    struct changelog_fields cf = {.n = 0};
    if (is_create && new_state && !st)
        changelog_field(&cf, "state");
    if (is_create && strcmp(k->name, "user") == 0 && !find_change(ch, "role"))
        changelog_field(&cf, "role");
    for (int i = 0; i < ch->n; i++)
        changelog_field(&cf, ch->c[i].f->name);
    if (!is_create && new_state && granted_state(k, new_state) && !find_change(ch, "granted"))
        changelog_field(&cf, "granted");
    changelog_add(&log, k->name, id, is_create ? CHANGE_CREATE : CHANGE_UPDATE, &cf, now);
    if (new_state && (is_create || strcmp(cur, new_state) != 0) &&
        record_event(c, id, is_create ? NULL : (cur[0] ? cur : NULL), new_state, now, &log) != 0) {
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    if (changelog_write(c->w->db, &log) != 0) {
        fprintf(stderr, "write failed on %s: the change log: %s\n", k->name,
                store_errmsg(c->w->db));
        ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        goto out;
    }
    /* The row after the write must still be one the caller may read (checked on the new
     * row as load_current checked the old one). */
    if (policy_scoped(&c->p, k) && !load_current(c, id, cur, sizeof cur, &deleted, NULL)) {
        ctx_error(c, ERR_FORBIDDEN, NULL, "a %s may only write records of its own organizations",
                  policy_role(&c->p)->name);
        goto out;
    }
    if (strcmp(k->name, "user") == 0)
        auth_bump_generation(c->w->db); /* roles and states gate tokens */
    /* An idempotent write's answer is built inside its transaction and stored with it. */
    if (ik.on && (records_render_one(c, id) != 0 || idem_store(c, &ik, 200) != 0))
        goto out;
    in_tx = 0;
    if (commit(c) != 0)
        goto out;
    if (strcmp(k->name, "user") == 0)
        auth_cache_invalidate(); /* nothing cached between the bump and the commit survives */
    if (strcmp(k->name, "model_attribute") == 0) {
        dyn_reload(c->w->db); /* publish the new field set, then use it */
        dyn_sync(c->w->db);
    }
    c->durable = 1;
    if (ik.on || records_render_one(c, id) == 0)
        ctx_send(c, 200, "application/json; charset=utf-8");
out:
    if (in_tx)
        rollback(c);
    changelog_discard(&log);
    changes_free(ch);
    free(ch);
    json_decref(details);
    json_decref(data);
    sql_release(&q);
    sql_release(&vals);
    records_release_temp(c->w);
    return 0;
}

int records_create(struct ctx *c)
{
    return write_record(c, 1);
}

int records_update(struct ctx *c)
{
    return write_record(c, 0);
}

int records_delete(struct ctx *c)
{
    char cur[64];
    int deleted = 0;
    struct if_match im;
    struct idem ik;
    read_if_match(c, &im);
    if (if_match_present(c, &im) != 0 || idem_read(c, &ik) != 0 || begin(c) != 0)
        return 0;
    int replay = idem_lookup(c, &ik);
    if (replay == 1)
        send_replay(c);
    if (replay != 0) {
        if (replay < 0)
            rollback(c);
        records_release_temp(c->w);
        return 0;
    }
    int64_t version = 0;
    int where = load_current(c, c->id, cur, sizeof cur, &deleted, &version);
    if (!where) {
        rollback(c);
        records_release_temp(c->w);
        return ctx_error(c, ERR_NOT_FOUND, NULL, "Couldn't find %s with 'id'=%lld", c->cls->camel,
                         (long long)c->id);
    }
    if (may_act(c, c->id, where) != 0 || if_match_holds(c, &im, c->id, version) != 0) {
        rollback(c);
        records_release_temp(c->w);
        return 0;
    }
    records_release_temp(c->w);
    if (!deleted) {
        struct sql q;
        sql_init(&q);
        sql_append(&q, "UPDATE ");
        sql_ident(&q, c->cls->name);
        char at[64];
        sql_placeholder(at, sizeof at, SQLK_TIME, 0);
        sql_appendf(&q,
                    " SET \"lock_version\" = \"lock_version\" + 1, \"deleted_at\" = %s, "
                    "\"updated_at\" = %s, \"updated_by_id\" = ? WHERE \"id\" = ?%s",
                    at, at, im.kind == 2 ? " AND \"lock_version\" = ?" : "");
        struct store_stmt *s = stmt_get(c->w, q.buf, q.len);
        int64_t now = now_unix();
        int ok = 0, stale = 0;
        if (s) {
            store_bind_int(s, 1, now);
            store_bind_int(s, 2, now);
            store_bind_int(s, 3, c->p.user_id);
            store_bind_int(s, 4, c->id);
            if (im.kind == 2)
                store_bind_int(s, 5, version);
            ok = store_step(s) == STORE_DONE;
            stale = ok && im.kind == 2 && store_changes(c->w->db) == 0;
            store_reset(s);
        }
        sql_release(&q);
        if (stale) {
            rollback(c);
            return if_match_lost(c, c->id), 0;
        }
        struct changelog_fields cf = {.n = 0};
        changelog_field(&cf, "deleted_at");
        if (ok)
            ok = changelog_note(c->w->db, c->cls->name, c->id, CHANGE_DELETE, &cf, now) == 0;
        if (!ok) {
            rollback(c);
            return ctx_error(c, ERR_INTERNAL, NULL, "internal error");
        }
        if (strcmp(c->cls->name, "user") == 0)
            auth_bump_generation(c->w->db);
        if (strcmp(c->cls->name, "model_attribute") == 0)
            dyn_bump(c->w->db);
    }
    c->out.len = 0;
    buf_adds(&c->out, "true");
    if (idem_store(c, &ik, 200) != 0) {
        rollback(c);
        return 0;
    }
    if (commit(c) != 0)
        return 0;
    if (strcmp(c->cls->name, "user") == 0)
        auth_cache_invalidate();
    if (strcmp(c->cls->name, "model_attribute") == 0) {
        dyn_reload(c->w->db);
        dyn_sync(c->w->db);
    }
    c->durable = 1;
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}
