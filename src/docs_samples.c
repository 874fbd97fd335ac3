/* Sample curl lines for the class pages (docs_samples.h). Ids come from the database at
 * render time: fetch uses the oldest live record, update, promote and delete the newest
 * (never the viewer's own user), promote a record whose state has a transition in the
 * class's workflow, create the required fields with references to live records. Values
 * are JSON built with jansson and single-quoted for the shell. */
#include "docs_samples.h"
#include "docs.h"
#include "sql.h"
#include "webhtml.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- shell lines ---- */

/* 'text' for the shell: a ' inside becomes '\'' */
static void sq(struct buf *b, const char *s)
{
    buf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            buf_adds(b, "'\\''");
        else
            buf_addc(b, *s);
    }
    buf_addc(b, '\'');
}

static void c_begin(struct buf *b, const char *method, int get_data)
{
    buf_adds(b, "curl");
    if (method) {
        buf_adds(b, " -X ");
        buf_adds(b, method);
    }
    if (get_data)
        buf_adds(b, " -G");
    buf_adds(b, " -H \"Authorization: Bearer $TOKEN\"");
}

static void c_url(struct buf *b, const char *site, int v, const struct class_def *k,
                  const char *tail, int64_t id)
{
    struct buf u;
    buf_init(&u);
    buf_addf(&u, "%s/api/rest/v%d/%s", site, v, k->name);
    if (tail)
        buf_addf(&u, "/%s", tail);
    if (id > 0)
        buf_addf(&u, "/%lld", (long long)id);
    buf_addc(b, ' ');
    sq(b, u.s);
    buf_release(&u);
}

/* --data-urlencode 'name=<json>' (steals j) */
static void c_json(struct buf *b, const char *name, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    struct buf kv;
    buf_init(&kv);
    buf_addf(&kv, "%s=%s", name, s ? s : "null");
    buf_adds(b, " --data-urlencode ");
    sq(b, kv.s);
    buf_release(&kv);
    free(s);
    json_decref(j);
}

static void c_str(struct buf *b, const char *name, const char *value)
{
    struct buf kv;
    buf_init(&kv);
    buf_addf(&kv, "%s=%s", name, value);
    buf_adds(b, " --data-urlencode ");
    sq(b, kv.s);
    buf_release(&kv);
}

/* -d name=value for values made of safe characters only */
static void c_d(struct buf *b, const char *name, const char *value)
{
    buf_addf(b, " -d %s=%s", name, value);
}

void samples_token_line(struct buf *cmd, const char *site)
{
    buf_adds(cmd, "TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=CLIENT_ID "
                  "-d client_secret=CLIENT_SECRET ");
    struct buf u;
    buf_init(&u);
    buf_addf(&u, "%s/oauth/token", site);
    sq(cmd, u.s);
    buf_release(&u);
    buf_adds(cmd, " | sed 's/.*\"access_token\":\"\\([0-9a-f]*\\)\".*/\\1/')");
}

void samples_block(struct buf *page, const char *id, const struct buf *cmd)
{
    WH_LIT(page, "<div class=\"sample\"><pre><code");
    if (id) {
        WH_LIT(page, " id=\"sample-");
        wh_text(page, id);
        WH_LIT(page, "\"");
    }
    WH_LIT(page, ">");
    wh_textn(page, cmd->s ? cmd->s : "", cmd->len);
    WH_LIT(page, "</code></pre></div>");
}

/* ---- records to name ---- */

/* A live id of k (oldest or newest), optionally with column `col` set, never `exclude`.
 * 0 when there is none. */
static int64_t live_id(struct store_conn *db, const struct class_def *k, const char *col,
                       int newest, int64_t exclude)
{
    struct sql q;
    struct store_stmt *st = NULL;
    int64_t id = 0;
    sql_init(&q);
    sql_append(&q, "SELECT \"id\" FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " WHERE \"deleted_at\" IS NULL");
    if (col) {
        sql_append(&q, " AND ");
        sql_ident(&q, col);
        sql_append(&q, " IS NOT NULL");
    }
    if (exclude > 0) {
        sql_append(&q, " AND \"id\" <> ");
        sql_bind_int(&q, exclude);
    }
    sql_append(&q, newest ? " ORDER BY \"id\" DESC LIMIT 1" : " ORDER BY \"id\" LIMIT 1");
    if (store_prepare_sql(db, &q, &st) == STORE_OK && store_step(st) == STORE_ROW)
        id = store_col_int(st, 0);
    store_finalize(st);
    sql_release(&q);
    return id;
}

/* A word (3+ ASCII letters or digits) found in a full-text field of a live record. */
static int fulltext_word(struct store_conn *db, const struct class_def *k, char *out, size_t outlen)
{
    out[0] = 0;
    for (int i = 0; i < k->nfields && !out[0]; i++) {
        const struct field *f = &k->fields[i];
        if (!(f->flags & FF_FULLTEXT) || (f->type != FT_STRING && f->type != FT_TEXT) ||
            (f->flags & (FF_SECRET | FF_MASKED)))
            continue;
        struct sql q;
        struct store_stmt *st = NULL;
        sql_init(&q);
        sql_append(&q, "SELECT ");
        sql_ident(&q, f->name);
        sql_append(&q, " FROM ");
        sql_ident(&q, k->name);
        sql_append(&q, " WHERE \"deleted_at\" IS NULL AND ");
        sql_ident(&q, f->name);
        sql_append(&q, " <> '' ORDER BY \"id\" LIMIT 5");
        if (store_prepare_sql(db, &q, &st) == STORE_OK) {
            while (!out[0] && store_step(st) == STORE_ROW) {
                const char *s = (const char *)store_col_text(st, 0);
                while (s && *s && !out[0]) {
                    size_t n = 0;
                    while (s[n] && (unsigned char)s[n] < 0x80 && isalnum((unsigned char)s[n]))
                        n++;
                    if (n >= 3 && n < outlen && n < 30) {
                        memcpy(out, s, n);
                        out[n] = 0;
                    }
                    s += n ? n : 1;
                }
            }
        }
        store_finalize(st);
        sql_release(&q);
    }
    return out[0] ? 0 : -1;
}

static int has_fulltext(const struct class_def *k)
{
    for (int i = 0; i < k->nfields; i++)
        if ((k->fields[i].flags & FF_FULLTEXT) &&
            (k->fields[i].type == FT_STRING || k->fields[i].type == FT_TEXT))
            return 1;
    return 0;
}

/* The newest live record whose state has a way out, and where it may go. */
static int64_t promote_target(struct store_conn *db, const struct class_def *k, int64_t exclude,
                              char *from, size_t fromlen, const char **to)
{
    struct sql q;
    struct store_stmt *st = NULL;
    int64_t id = 0;
    if (!k->wf || k->wf->ntransitions == 0)
        return 0;
    sql_init(&q);
    sql_append(&q, "SELECT \"id\", \"state\" FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " WHERE \"deleted_at\" IS NULL AND \"state\" IN (");
    for (int i = 0; i < k->wf->ntransitions; i++) {
        if (i)
            sql_append(&q, ", ");
        sql_bind_text(&q, k->wf->transitions[i].from, strlen(k->wf->transitions[i].from));
    }
    sql_append(&q, ")");
    if (exclude > 0) {
        sql_append(&q, " AND \"id\" <> ");
        sql_bind_int(&q, exclude);
    }
    sql_append(&q, " ORDER BY \"id\" DESC LIMIT 1");
    if (store_prepare_sql(db, &q, &st) == STORE_OK && store_step(st) == STORE_ROW) {
        const char *s = (const char *)store_col_text(st, 1);
        snprintf(from, fromlen, "%s", s ? s : "");
        *to = NULL;
        /* Prefer moving forward over rejecting or cancelling. */
        for (int i = 0; i < k->wf->ntransitions; i++) {
            const struct transition *t = &k->wf->transitions[i];
            if (strcmp(t->from, from) != 0)
                continue;
            if (!*to || strcmp(*to, "rejected") == 0 || strcmp(*to, "canceled") == 0)
                *to = t->to;
        }
        if (*to)
            id = store_col_int(st, 0);
    }
    store_finalize(st);
    sql_release(&q);
    return id;
}

/* Up to `max` plain fields to show in list samples (the v1 compact set, else columns). */
static json_t *sample_cols(const struct class_def *k, int max)
{
    static const char *const prefer[] = {
        "name",  "project_title",    "title",      "first_name", "last_name",
        "state", "amount_requested", "amount_due", NULL};
    json_t *a = json_array();
    for (int i = 0; prefer[i] && (int)json_array_size(a) < max; i++) {
        const struct field *f = registry_field(k, prefer[i]);
        if (f && registry_has_column(f) && !(f->flags & (FF_SECRET | FF_MASKED)))
            json_array_append_new(a, json_string(f->name));
    }
    for (int pass = 0; pass < 2 && (int)json_array_size(a) < max; pass++) {
        for (int i = 0; i < k->nfields && (int)json_array_size(a) < max; i++) {
            const struct field *f = &k->fields[i];
            if (strcmp(f->name, "id") == 0 || !registry_has_column(f) ||
                (f->flags & (FF_SECRET | FF_MASKED)) || (pass == 0 && !(f->flags & FF_COMPACT)))
                continue;
            int dup = 0;
            for (size_t j = 0; j < json_array_size(a); j++)
                dup |= strcmp(json_string_value(json_array_get(a, j)), f->name) == 0;
            if (!dup)
                json_array_append_new(a, json_string(f->name));
        }
    }
    return a;
}

/* The plain text field the create and update samples write. */
static const struct field *label_field(const struct class_def *k)
{
    static const char *const prefer[] = {"description", "project_summary", "name", "note",
                                         "comment",     "title",           NULL};
    for (int i = 0; prefer[i]; i++) {
        const struct field *f = registry_field(k, prefer[i]);
        if (f && (f->type == FT_STRING || f->type == FT_TEXT) && !f->enumvals &&
            docs_writable(k, f) && !(f->flags & (FF_MASKED | FF_ADMINSET)))
            return f;
    }
    for (int i = 0; i < k->nfields; i++) {
        const struct field *f = &k->fields[i];
        if ((f->type == FT_STRING || f->type == FT_TEXT) && !f->enumvals && docs_writable(k, f) &&
            !(f->flags & (FF_MASKED | FF_ADMINSET)) && (f->flags & FF_FULLTEXT))
            return f;
    }
    return NULL;
}

/* A value for required field f of k, or NULL (why says) when none can be made. */
static json_t *required_value(struct store_conn *db, const struct class_def *k,
                              const struct field *f, char *why, size_t whylen)
{
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (f->enumvals)
        return json_stringn(f->enumvals, strcspn(f->enumvals, "|"));
    size_t nl = strlen(f->name);
    switch (f->type) {
    case FT_REF: {
        const struct class_def *t = docs_related(f);
        int64_t id = t ? live_id(db, t, NULL, 0, 0) : 0;
        if (!id) {
            snprintf(why, whylen, "a create needs a live %s for %s, and this site has none yet",
                     f->target ? f->target : "record", f->name);
            return NULL;
        }
        return json_integer(id);
    }
    case FT_INT: {
        /* A polymorphic pair (notable_type + notable_id) points at a grant request. */
        const struct class_def *g = registry_class("grant_request", 13);
        if (nl > 3 && strcmp(f->name + nl - 3, "_id") == 0 && g)
            return json_integer(live_id(db, g, NULL, 0, 0));
        return json_integer(1);
    }
    case FT_DECIMAL:
        return json_string("1000");
    case FT_FLOAT:
        return json_real(1.5);
    case FT_BOOL:
        return json_true();
    case FT_DATE:
    case FT_DATETIME:
        return json_string(today);
    case FT_STRING:
    case FT_TEXT:
        if (nl > 5 && strcmp(f->name + nl - 5, "_type") == 0)
            return json_string("GrantRequest");
        if (strstr(f->name, "email"))
            return json_string("sample@example.org");
        return json_string("Example");
    default:
        snprintf(why, whylen, "%s cannot be given a sample value", f->name);
        return NULL;
    }
}

static json_t *create_data(struct store_conn *db, const struct class_def *k, char *why,
                           size_t whylen)
{
    json_t *d = json_object();
    if (strcmp(k->name, "model_attribute") == 0) {
        /* A new site-defined field of grant_request, with a name no field has yet. */
        char name[64];
        const struct class_def *g = registry_class("grant_request", 13);
        int64_t n = live_id(db, k, NULL, 1, 0) + 1;
        snprintf(name, sizeof name, "sample_field_%lld", (long long)n);
        while (g && registry_field(g, name) && n < 1000000)
            snprintf(name, sizeof name, "sample_field_%lld", (long long)++n);
        json_object_set_new(d, "model_type", json_string("GrantRequest"));
        json_object_set_new(d, "name", json_string(name));
        json_object_set_new(d, "attribute_type", json_string("string"));
        json_object_set_new(d, "description", json_string("Added through the API"));
        return d;
    }
    for (int i = 0; i < k->nfields; i++) {
        const struct field *f = &k->fields[i];
        if (!(f->flags & FF_REQUIRED) || !docs_writable(k, f))
            continue;
        json_t *v = required_value(db, k, f, why, whylen);
        if (!v) {
            json_decref(d);
            return NULL;
        }
        json_object_set_new(d, f->name, v);
    }
    const struct field *l = label_field(k);
    if (l && !json_object_get(d, l->name))
        json_object_set_new(d, l->name, json_string("Created through the API"));
    return d;
}

/* ---- the page section ---- */

static void heading(struct buf *b, const char *title, const char *text)
{
    WH_LIT(b, "<h3>");
    wh_text(b, title);
    WH_LIT(b, "</h3>");
    if (text) {
        WH_LIT(b, "<p>");
        wh_text(b, text);
        WH_LIT(b, "</p>");
    }
}

static void missing(struct buf *b, const char *title, const char *why)
{
    heading(b, title, NULL);
    WH_LIT(b, "<p class=\"muted\">No sample: ");
    wh_text(b, why);
    WH_LIT(b, ".</p>");
}

/* The list shape of a version: cols (v2) or style (v1). */
static void c_fields(struct buf *b, const struct class_def *k, int v)
{
    if (v == 1)
        c_d(b, "style", "compact");
    else
        c_json(b, "cols", sample_cols(k, 4));
}

void samples_render(struct ctx *c, struct buf *page, const struct class_def *k, int v,
                    const char *site, int64_t viewer)
{
    struct store_conn *db = c->w->db;
    struct buf cmd;
    char word[40], why[200], from[64];
    const char *to = NULL;
    int is_user = strcmp(k->name, "user") == 0;
    int64_t first = live_id(db, k, NULL, 0, 0);
    int64_t last = live_id(db, k, NULL, 1, is_user ? viewer : 0);
    int writable = !(k->flags & CF_READONLY);
    buf_init(&cmd);

    heading(page, "List", "The first page of records, 25 per page unless per_page says.");
    c_begin(&cmd, NULL, 1);
    c_url(&cmd, site, v, k, NULL, 0);
    c_fields(&cmd, k, v);
    c_d(&cmd, "per_page", "5");
    samples_block(page, "list", &cmd);

    cmd.len = 0;
    heading(page, "List through /list", "The same list with the parameters in a POST body.");
    c_begin(&cmd, "POST", 0);
    c_url(&cmd, site, v, k, "list", 0);
    c_fields(&cmd, k, v);
    c_d(&cmd, "per_page", "5");
    samples_block(page, "list-post", &cmd);

    cmd.len = 0;
    heading(page, "List from the database (all=1)",
            "Fluxx reads around its search index with all=1; grantd always reads the database, "
            "so it changes nothing.");
    c_begin(&cmd, NULL, 1);
    c_url(&cmd, site, v, k, NULL, 0);
    c_fields(&cmd, k, v);
    c_d(&cmd, "all", "1");
    samples_block(page, "list-all", &cmd);

    cmd.len = 0;
    heading(page, "Page 2", "Pages count from 1; total_pages and total_entries come with each.");
    c_begin(&cmd, NULL, 1);
    c_url(&cmd, site, v, k, NULL, 0);
    c_fields(&cmd, k, v);
    c_d(&cmd, "page", "2");
    c_d(&cmd, "per_page", "5");
    samples_block(page, "page2", &cmd);

    if (!has_fulltext(k)) {
        missing(page, "Full-text search", "this class has no full-text fields");
    } else {
        cmd.len = 0;
        if (fulltext_word(db, k, word, sizeof word) != 0)
            snprintf(word, sizeof word, "grant");
        heading(page, "Full-text search",
                "query matches whole words of the text fields, the last word as a prefix.");
        c_begin(&cmd, NULL, 1);
        c_url(&cmd, site, v, k, NULL, 0);
        c_fields(&cmd, k, v);
        c_str(&cmd, "query", word);
        samples_block(page, "query", &cmd);
    }

    cmd.len = 0;
    heading(page, "Advanced search", "A filter group posted to /list.");
    {
        json_t *conds = json_array();
        json_array_append_new(conds, json_pack("[ssi]", "id", "gt", 0));
        if (k->wf) {
            json_t *any = json_array();
            for (int i = 0; i < 2 && k->wf->states[i]; i++)
                json_array_append_new(any, json_pack("[sss]", "state", "eq", k->wf->states[i]));
            json_array_append_new(conds,
                                  json_pack("{s:s,s:o}", "group_type", "or", "conditions", any));
        }
        c_begin(&cmd, "POST", 0);
        c_url(&cmd, site, v, k, "list", 0);
        c_json(&cmd, "filter", json_pack("{s:s,s:o}", "group_type", "and", "conditions", conds));
        c_fields(&cmd, k, v);
        samples_block(page, "filter", &cmd);
    }

    if (!first) {
        missing(page, "Fetch one record", "this site has no record of this class yet");
    } else {
        cmd.len = 0;
        heading(page, "Fetch one record", NULL);
        c_begin(&cmd, NULL, 1);
        c_url(&cmd, site, v, k, NULL, first);
        c_fields(&cmd, k, v);
        samples_block(page, "fetch", &cmd);
    }

    {
        const struct field *rel = NULL;
        int64_t rid = 0;
        for (int i = 0; i < k->nfields && !rid; i++) {
            const struct field *f = &k->fields[i];
            if (f->type != FT_REF || !docs_related(f) || strcmp(f->name, "created_by_id") == 0 ||
                strcmp(f->name, "updated_by_id") == 0)
                continue;
            rid = live_id(db, k, f->name, 0, 0);
            rel = f;
        }
        if (!rid) {
            missing(page, "Fetch with a relation",
                    "no record of this class refers to another "
                    "record yet");
        } else {
            const struct class_def *t = docs_related(rel);
            cmd.len = 0;
            heading(page, "Fetch with a relation",
                    "relation expands a related record one level deep, as an array of objects.");
            c_begin(&cmd, NULL, 1);
            c_url(&cmd, site, v, k, NULL, rid);
            if (v == 1) {
                c_d(&cmd, "style", "compact");
                c_json(&cmd, "relation", json_pack("{s:s}", rel->name, "compact"));
            } else {
                c_json(&cmd, "cols", json_pack("[s]", rel->name));
                c_json(&cmd, "relation", json_pack("{s:o}", rel->name, sample_cols(t, 2)));
            }
            samples_block(page, "relation", &cmd);
        }
    }

    if (!writable) {
        missing(page, "Create, update, promote and delete",
                "records of this class are written by grantd itself, never through the API");
    } else {
        json_t *d = create_data(db, k, why, sizeof why);
        if (!d) {
            missing(page, "Create", why);
        } else {
            cmd.len = 0;
            heading(page, "Create",
                    "data holds the new record's fields; the answer is the "
                    "record.");
            c_begin(&cmd, "POST", 0);
            c_url(&cmd, site, v, k, NULL, 0);
            c_json(&cmd, "data", d);
            if (v == 2)
                c_json(&cmd, "cols", sample_cols(k, 3));
            samples_block(page, "create", &cmd);
        }
        const struct field *l = label_field(k);
        if (!last || !l) {
            missing(page, "Update",
                    !last ? "this site has no record of this class yet"
                          : "this class has no plain text field to change");
        } else {
            cmd.len = 0;
            heading(page, "Update", "Only the fields in data change.");
            c_begin(&cmd, "PUT", 0);
            c_url(&cmd, site, v, k, NULL, last);
            c_json(&cmd, "data", json_pack("{s:s}", l->name, "Updated through the API"));
            if (v == 2)
                c_json(&cmd, "cols", json_pack("[s]", l->name));
            samples_block(page, "update", &cmd);
        }
        int64_t pid = promote_target(db, k, is_user ? viewer : 0, from, sizeof from, &to);
        if (!k->wf) {
            missing(page, "Promote", "this class has no workflow");
        } else if (!pid) {
            missing(page, "Promote", "no record is in a state that can move on");
        } else {
            char text[200];
            snprintf(text, sizeof text,
                     "Moves record %lld from its state %s to %s, a transition of the workflow.",
                     (long long)pid, from, to);
            cmd.len = 0;
            heading(page, "Promote", text);
            c_begin(&cmd, "PUT", 0);
            c_url(&cmd, site, v, k, NULL, pid);
            c_json(&cmd, "data", json_pack("{s:s}", "state", to));
            if (v == 2)
                c_json(&cmd, "cols", json_pack("[s]", "state"));
            samples_block(page, "promote", &cmd);
        }
        if (!last) {
            missing(page, "Delete", "this site has no record of this class yet");
        } else {
            cmd.len = 0;
            heading(page, "Delete",
                    "A soft delete: the answer is true; the record leaves lists "
                    "and a fetch shows its deleted_at.");
            c_begin(&cmd, "DELETE", 0);
            c_url(&cmd, site, v, k, NULL, last);
            samples_block(page, "delete", &cmd);
        }
    }

    {
        const struct field *g = registry_field(k, "state");
        const struct field *sum = NULL;
        for (int i = 0; i < k->nfields && (!g || !sum); i++) {
            const struct field *f = &k->fields[i];
            if (!g && f->type == FT_REF && docs_related(f) &&
                strcmp(f->name, "created_by_id") != 0 && strcmp(f->name, "updated_by_id") != 0)
                g = f;
            if (!sum && f->type == FT_DECIMAL && !(f->flags & (FF_SECRET | FF_MASKED)))
                sum = f;
        }
        if (!g)
            g = registry_field(k, "created_by_id");
        cmd.len = 0;
        heading(page, "Aggregation",
                "group and aggregation: one row per group, paged like a "
                "list.");
        json_t *agg = json_object();
        if (sum)
            json_object_set_new(agg, sum->name, json_string("sum"));
        json_object_set_new(agg, "id", json_string("count"));
        c_begin(&cmd, NULL, 1);
        c_url(&cmd, site, v, k, NULL, 0);
        c_json(&cmd, "group", json_pack("[s]", g ? g->name : "id"));
        c_json(&cmd, "aggregation", agg);
        samples_block(page, "aggregation", &cmd);
    }
    buf_release(&cmd);
}
