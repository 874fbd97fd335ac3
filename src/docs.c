/* The documentation pages and the JSON class and field lists (contract §3; ref §7.2, §7.3):
 * /api/rest/{v}/doc (token, parameters, routes, limits, errors, classes with a search box),
 * /api/rest/{v}/{class}/doc (description, sample curl lines in ref §7.2's order, the field
 * table), /api/rest/v2/classes and /api/rest/v2/{class}/fields. Everything is rendered from
 * the registry at request time; the samples name records that exist when the page is
 * rendered (docs_samples.c), so every line works when pasted with a token. */
#include "docs.h"
#include "settings.h"
#include "store.h"
#include "docs_samples.h"
#include "dynattr.h"
#include "jsonw.h"
#include "params.h"
#include "web.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- field metadata (docs.h) ---- */

int docs_nfields(const struct class_def *k)
{
    const struct field *d = NULL;
    return k->nfields + dyn_fields(k, &d);
}

const struct field *docs_field(const struct class_def *k, int i)
{
    const struct field *f;
    if (i < k->nfields) {
        f = &k->fields[i];
    } else {
        const struct field *d = NULL;
        int n = dyn_fields(k, &d);
        if (i - k->nfields >= n)
            return NULL;
        f = &d[i - k->nfields];
    }
    return (f->flags & FF_SECRET) ? NULL : f;
}

const struct class_def *docs_related(const struct field *f)
{
    if ((f->type != FT_REF && f->type != FT_REF_ALIAS && f->type != FT_HAS_MANY) || !f->target)
        return NULL;
    return registry_class(f->target, strlen(f->target));
}

const char *docs_data_type(const struct field *f)
{
    switch (f->type) {
    case FT_INT:
    case FT_REF:
        return "integer";
    case FT_DECIMAL:
        return "decimal";
    case FT_FLOAT:
        return "float";
    case FT_STRING:
        return "string";
    case FT_TEXT:
        return "text";
    case FT_BOOL:
        return "boolean";
    case FT_DATE:
        return "date";
    case FT_DATETIME:
        return "datetime";
    case FT_MULTI:
        return "multi_value";
    case FT_REF_ALIAS:
    case FT_HAS_MANY: {
        const struct class_def *t = docs_related(f);
        return t ? t->camel : "integer";
    }
    }
    return "string";
}

const char *docs_kind(const struct field *f)
{
    return f->type == FT_REF_ALIAS || f->type == FT_HAS_MANY ? "relation" : "column";
}

int docs_writable(const struct class_def *k, const struct field *f)
{
    if (k->flags & CF_READONLY)
        return 0;
    return !(f->flags & (FF_READONLY | FF_SERVER | FF_SECRET)) && registry_has_column(f);
}

int docs_groupable(const struct field *f)
{
    return f->type == FT_INT || f->type == FT_STRING || f->type == FT_BOOL || f->type == FT_DATE ||
           f->type == FT_REF;
}

int docs_dynamic(const struct field *f)
{
    return (f->flags & FF_DYNAMIC) != 0;
}

int docs_plural(const struct field *f)
{
    return f->type == FT_HAS_MANY || f->type == FT_MULTI;
}

const char *docs_writers(const struct class_def *k)
{
    if (k->flags & CF_READONLY)
        return "nobody: grantd writes it itself";
    if (k->flags & CF_ADMIN_WRITE)
        return "admin";
    if (k->flags & CF_STAFF_WRITE)
        return "admin, super_user and employee; a grantee its own organization's records";
    return "admin and super_user";
}

/* ---- /api/rest/v2/classes and /api/rest/v2/{class}/fields ---- */

static void send_json(struct ctx *c, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    c->out.len = 0;
    buf_adds(&c->out, s ? s : "{}");
    free(s);
    json_decref(j);
    ctx_send(c, 200, "application/json; charset=utf-8");
}

static json_t *workflow_json(const struct class_def *k)
{
    if (!k->wf)
        return json_null();
    json_t *w = json_object(), *states = json_array(), *tr = json_array();
    for (const char *const *s = k->wf->states; *s; s++)
        json_array_append_new(states, json_string(*s));
    for (int i = 0; i < k->wf->ntransitions; i++)
        json_array_append_new(tr, json_pack("{s:s,s:s}", "from", k->wf->transitions[i].from, "to",
                                            k->wf->transitions[i].to));
    json_object_set_new(w, "initial_state", json_string(k->wf->states[0]));
    json_object_set_new(w, "states", states);
    json_object_set_new(w, "transitions", tr);
    return w;
}

int docs_classes_json(struct ctx *c)
{
    struct web_user u;
    char path[200];
    if (web_auth(c, WEB_DOCS, 0, &u) != 0)
        return 0;
    json_t *list = json_array();
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *k = &registry_classes[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(k->name));
        json_object_set_new(o, "camel_name", json_string(k->camel));
        json_object_set_new(o, "description", json_string(k->desc ? k->desc : ""));
        json_object_set_new(o, "writable", json_boolean(!(k->flags & CF_READONLY)));
        json_object_set_new(o, "writers", json_string(docs_writers(k)));
        json_object_set_new(o, "workflow", workflow_json(k));
        snprintf(path, sizeof path, "/api/rest/v2/%s/fields", k->name);
        json_object_set_new(o, "fields", json_string(path));
        snprintf(path, sizeof path, "/api/rest/v2/%s/doc", k->name);
        json_object_set_new(o, "doc", json_string(path));
        json_array_append_new(list, o);
    }
    send_json(c, json_pack("{s:o}", "classes", list));
    return 0;
}

/* The class named by path segment 3 (/api/rest/v2/<class>/...), or NULL after answering. */
static const struct class_def *class_from_path(struct ctx *c, int html, const struct web_user *u)
{
    const char *s;
    size_t n;
    const struct class_def *k = NULL;
    if (web_segment(c, 3, &s, &n) == 0)
        k = registry_class(s, n);
    if (k)
        return k;
    char camel[128];
    size_t o = 0;
    int up = 1;
    for (size_t i = 0; s && i < n && i < 100 && o + 1 < sizeof camel; i++) {
        if (s[i] == '_') {
            up = 1;
            continue;
        }
        if (!isalnum((unsigned char)s[i]))
            continue;
        camel[o++] = up ? (char)toupper((unsigned char)s[i]) : s[i];
        up = 0;
    }
    camel[o] = 0;
    if (html) {
        char why[400];
        snprintf(why, sizeof why, "This site has no class '%s' (uninitialized constant %s).", camel,
                 camel);
        web_fail(c, 404, "No such class", why, u);
    } else {
        ctx_error(c, ERR_UNKNOWN_CLASS, NULL, "#<NameError: uninitialized constant %s>", camel);
    }
    return NULL;
}

static json_t *field_json(const struct class_def *k, const struct field *f)
{
    json_t *o = json_object();
    const struct class_def *t = docs_related(f);
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "description", json_string(f->desc ? f->desc : ""));
    json_object_set_new(o, "permission",
                        docs_writable(k, f) ? json_pack("[ss]", "create", "update") : json_array());
    json_object_set_new(o, "data_type", json_string(docs_data_type(f)));
    json_object_set_new(o, "related_class", t ? json_string(t->name) : json_null());
    json_object_set_new(o, "type", json_string(docs_kind(f)));
    json_object_set_new(o, "plural", json_boolean(docs_plural(f)));
    json_object_set_new(o, "groupable", json_boolean(docs_groupable(f)));
    json_object_set_new(o, "dynamic", json_boolean(docs_dynamic(f)));
    json_object_set_new(o, "required", json_boolean((f->flags & FF_REQUIRED) != 0));
    json_object_set_new(o, "full_text", json_boolean((f->flags & FF_FULLTEXT) != 0));
    json_object_set_new(o, "masked", json_boolean((f->flags & FF_MASKED) != 0));
    if (f->enumvals) {
        json_t *e = json_array();
        const char *p = f->enumvals;
        while (*p) {
            size_t l = strcspn(p, "|");
            json_array_append_new(e, json_stringn(p, l));
            p += l;
            if (*p == '|')
                p++;
        }
        json_object_set_new(o, "values", e);
    }
    if ((f->type == FT_STRING || f->type == FT_TEXT))
        json_object_set_new(o, "max_length",
                            json_integer(f->maxlen              ? f->maxlen
                                         : f->type == FT_STRING ? 255
                                                                : 65535));
    return o;
}

int docs_fields_json(struct ctx *c)
{
    struct web_user u;
    if (web_auth(c, WEB_DOCS, 0, &u) != 0)
        return 0;
    const struct class_def *k = class_from_path(c, 0, &u);
    if (!k)
        return 0;
    json_t *list = json_array();
    int n = docs_nfields(k);
    for (int i = 0; i < n; i++) {
        const struct field *f = docs_field(k, i);
        if (f)
            json_array_append_new(list, field_json(k, f));
    }
    send_json(c,
              json_pack("{s:s,s:s,s:o}", "class", k->name, "camel_name", k->camel, "fields", list));
    return 0;
}

/* ---- the index page ---- */

struct param_doc {
    const char *name;
    int versions; /* 1, 2 or 3 (both) */
    const char *meaning;
    const char *example;
};

static const struct param_doc params_doc[] = {
    {"cols", 2,
     "JSON array of the fields to return; id always comes first. Names the class "
     "does not have are ignored and listed in X-Ignored-Fields.",
     "cols=[\"project_title\",\"amount_requested\",\"state\"]"},
    {"all_core", 2, "Return every column of the class.", "all_core=1"},
    {"all_dynamic", 2, "Return every site-defined (dynamic) field.", "all_dynamic=1"},
    {"style", 1,
     "Field preset: compact, detail (default) or full. v1 renders *_id keys under "
     "the relation name.",
     "style=compact"},
    {"relation", 3,
     "Expand related records one level deep: relation field \xe2\x86\x92 fields "
     "(v2) or a style (v1). Singular relations become one-element arrays.",
     "relation={\"program_organization_id\":[\"name\",\"city\"]}"},
    {"filter", 3,
     "Advanced filter: groups (and, or, not-and, not-or) of [field, operator, "
     "operand] conditions, or the basic forms; cross-class with [relation, "
     "\"filter\", group]. Unknown fields or operators are error 103.",
     "filter={\"group_type\":\"and\",\"conditions\":[[\"state\",\"eq\",\"granted\"],"
     "[\"amount_requested\",\"gte\",10000]]}"},
    {"query", 3,
     "Full-text search over the class's text fields: whole words, the last one as "
     "a prefix, all words required, case- and accent-insensitive.",
     "query=water sanitation"},
    {"sort", 3, "One [field, direction] pair or a list of them; ties always break on id.",
     "sort=[[\"amount_requested\",\"desc\"],[\"id\",\"asc\"]]"},
    {"sort_attribute, sort_order", 3, "The same as one sort pair.",
     "sort_attribute=updated_at&sort_order=desc"},
    {"page, current_page", 3,
     "Page number, from 1. A page past the end is empty with the true "
     "totals.",
     "page=2"},
    {"per_page", 3, "Records per page: default 25, at most 500 (larger values are clamped).",
     "per_page=100"},
    {"all", 3, "Accepted for compatibility; grantd lists from the database, with no index lag.",
     "all=1"},
    {"deleted", 3,
     "include or only: list soft-deleted records too, or only them (not for "
     "grantees).",
     "deleted=include"},
    {"group, aggregation", 3,
     "Group by fields (or relation.field of a singular relation) and "
     "aggregate with sum, count, avg, min or max; output keys "
     "<field>_<fn>.",
     "group=[\"program_id\"]&aggregation={\"amount_requested\":\"sum\",\"id\":\"count\"}"},
    {"data", 3,
     "On create and update: JSON object of field \xe2\x86\x92 value; \"\" clears a "
     "field; state moves the record along its workflow.",
     "data={\"project_title\":\"Clean water\",\"state\":\"pending\"}"},
    {"priority_index", 3, "Accepted and ignored: writes are visible to the very next read.",
     "priority_index=true"},
    {"error_status", 3,
     "Not a parameter: the site setting that makes v2 errors 100-104 answer "
     "with HTTP 4xx instead of Fluxx's 200.",
     "grantd config set error_status http"},
};

static void param_table(struct buf *b, int v)
{
    WH_LIT(b, "<div class=\"scroll\"><table><thead><tr><th>parameter</th><th>meaning</th>"
              "<th>example</th></tr></thead><tbody>");
    for (size_t i = 0; i < sizeof params_doc / sizeof params_doc[0]; i++) {
        const struct param_doc *d = &params_doc[i];
        if (!(d->versions & v))
            continue;
        WH_LIT(b, "<tr><td class=\"name\">");
        wh_text(b, d->name);
        WH_LIT(b, "</td><td>");
        wh_text(b, d->meaning);
        WH_LIT(b, "</td><td><code>");
        wh_text(b, d->example);
        WH_LIT(b, "</code></td></tr>");
    }
    WH_LIT(b, "</tbody></table></div><p class=\"small muted\">Parameters come from the query "
              "string or the body (urlencoded, multipart or a JSON object; a body value wins). "
              "JSON-valued parameters may be JSON text or structured (Rails nested keys such as "
              "<code>data[first_name]=Ann</code>). Flags accept 1, true, \"true\". Unknown "
              "parameters are ignored.</p>");
}

static void routes_table(struct buf *b, int v)
{
    static const char *const rows[][4] = {
        {"GET", "/api/rest/{v}/{class}", "list", "index"},
        {"GET, POST", "/api/rest/{v}/{class}/list", "list (parameters may be in the body)",
         "index"},
        {"GET", "/api/rest/{v}/{class}/{id}", "fetch one record", "get"},
        {"POST", "/api/rest/{v}/{class}", "create", "write"},
        {"PUT, PATCH", "/api/rest/{v}/{class}/{id}", "update", "write"},
        {"DELETE", "/api/rest/{v}/{class}/{id}", "soft delete; answers true", "write"},
        {"GET", "/api/rest/v2/changes?since=&limit=",
         "the change feed: writes after a cursor, in commit order (admin, super_user, "
         "developer)",
         "index"},
        {"GET", "/api/rest/{v}/doc, /api/rest/{v}/{class}/doc", "these pages", "\xe2\x80\x93"},
        {"GET", "/api/rest/v2/classes, /api/rest/v2/{class}/fields",
         "class and field lists "
         "(JSON)",
         "\xe2\x80\x93"},
        {"GET", "/api/rest/v2/openapi.json, /api/rest/v2/postman.json",
         "OpenAPI 3.1 and Postman v2.1 descriptions", "\xe2\x80\x93"},
        {"POST", "/oauth/token", "access token (client credentials)", "\xe2\x80\x93"},
        {"POST", "/oauth/revoke, /oauth/introspect",
         "revoke or describe one of the caller's "
         "tokens",
         "\xe2\x80\x93"},
    };
    WH_LIT(b, "<div class=\"scroll\"><table><thead><tr><th>method</th><th>path</th><th>action"
              "</th><th>rate tier</th></tr></thead><tbody>");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char path[200];
        const char *p = rows[i][1], *at;
        path[0] = 0;
        /* {v} becomes this page's version */
        while ((at = strstr(p, "{v}")) != NULL && strlen(path) + (size_t)(at - p) + 3 < 200) {
            strncat(path, p, (size_t)(at - p));
            strcat(path, v == 1 ? "v1" : "v2");
            p = at + 3;
        }
        strncat(path, p, sizeof path - strlen(path) - 1);
        WH_LIT(b, "<tr><td>");
        wh_text(b, rows[i][0]);
        WH_LIT(b, "</td><td class=\"name\">");
        wh_text(b, path);
        WH_LIT(b, "</td><td>");
        wh_text(b, rows[i][2]);
        WH_LIT(b, "</td><td>");
        wh_text(b, rows[i][3]);
        WH_LIT(b, "</td></tr>");
    }
    WH_LIT(b, "</tbody></table></div><p class=\"small muted\"><code>{class}</code> is the "
              "snake_case name (<code>grant_request</code>; <code>GrantRequest</code> works "
              "too). <code>HEAD</code> works wherever <code>GET</code> does; a POST with "
              "<code>X-HTTP-Method-Override</code> or a <code>_method</code> field acts as that "
              "method.</p>");
}

static void limits_table(struct ctx *c, struct buf *b)
{
    static const char *const tiers[][3] = {
        {"index", "rate_limit.index", "list and /list"},
        {"get", "rate_limit.get", "fetch one record"},
        {"write", "rate_limit.write", "create, update, delete"},
    };
    WH_LIT(b, "<div class=\"scroll\"><table><thead><tr><th>tier</th><th>calls</th><th>requests "
              "per client per 60 s</th></tr></thead><tbody>");
    for (size_t i = 0; i < 3; i++) {
        char v[32];
        settings_get(c->w->db, tiers[i][1], v, sizeof v);
        WH_LIT(b, "<tr><td>");
        wh_text(b, tiers[i][0]);
        WH_LIT(b, "</td><td>");
        wh_text(b, tiers[i][2]);
        WH_LIT(b, "</td><td>");
        wh_text(b, v);
        WH_LIT(b, "</td></tr>");
    }
    WH_LIT(b, "</tbody></table></div><p>Every answer carries <code>RateLimit-Policy</code>, "
              "<code>RateLimit</code> and <code>X-RateLimit-Limit</code>, "
              "<code>X-RateLimit-Remaining</code>, <code>X-RateLimit-Reset</code>. Past the "
              "limit: HTTP 429 with <code>Retry-After</code> and error code 429. Sign-in "
              "attempts, token requests and bad tokens are also limited per source address."
              "</p>");
}

static void errors_table(struct buf *b)
{
    WH_LIT(b, "<div class=\"scroll\"><table><thead><tr><th>code</th><th>meaning</th><th>HTTP "
              "status (default)</th><th>HTTP status with error_status=http (v2)</th></tr>"
              "</thead><tbody>");
    for (int i = 0; i < ERR_COUNT; i++) {
        WH_LIT(b, "<tr><td>");
        wh_int(b, error_defs[i].code);
        WH_LIT(b, "</td><td>");
        wh_text(b, error_defs[i].message);
        WH_LIT(b, "</td><td>");
        wh_int(b, error_defs[i].status_fluxx);
        WH_LIT(b, "</td><td>");
        wh_int(b, error_defs[i].status_http);
        WH_LIT(b, "</td></tr>");
    }
    WH_LIT(b, "</tbody></table></div><p>Error body: <code>{\"error\":{\"code\":103,"
              "\"message\":\"...\",\"details\":[{\"field\":\"...\",\"problem\":\"...\"}]}}"
              "</code>; <code>details</code> only for field-level failures.</p>");
}

/* Lower-case copy for matching. */
static void lower(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
}

static int matches(const char *q, const struct class_def *k)
{
    char a[128], d[600];
    if (!q || !*q)
        return 1;
    lower(k->name, a, sizeof a);
    if (strstr(a, q))
        return 1;
    lower(k->camel, a, sizeof a);
    if (strstr(a, q))
        return 1;
    lower(k->desc, d, sizeof d);
    return strstr(d, q) != NULL;
}

static void class_list(struct buf *b, int v, const char *query)
{
    char q[128];
    int shown = 0;
    lower(query, q, sizeof q);
    WH_LIT(b, "<form class=\"search\" method=\"get\" action=\"/api/rest/v");
    wh_int(b, v);
    WH_LIT(b, "/doc#classes\" role=\"search\"><input type=\"search\" name=\"q\" "
              "id=\"class-search\" placeholder=\"Search classes\" aria-label=\"Search classes\" "
              "data-filter=\"class-list\" data-count=\"class-count\" maxlength=\"100\" value=\"");
    wh_text(b, query && strlen(query) < 100 ? query : "");
    WH_LIT(b, "\"><button type=\"submit\">Search</button></form><ul class=\"classes\" "
              "id=\"class-list\">");
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *k = &registry_classes[i];
        char data[700];
        if (!matches(q, k))
            continue;
        shown++;
        snprintf(data, sizeof data, "%s %s %s", k->name, k->camel, k->desc ? k->desc : "");
        lower(data, data, sizeof data);
        WH_LIT(b, "<li data-name=\"");
        wh_text(b, data);
        WH_LIT(b, "\"><a href=\"/api/rest/v");
        wh_int(b, v);
        buf_addc(b, '/');
        wh_text(b, k->name);
        WH_LIT(b, "/doc\"><code>");
        wh_text(b, k->name);
        WH_LIT(b, "</code></a> <span class=\"muted small\">");
        wh_text(b, k->camel);
        WH_LIT(b, "</span><span class=\"desc\">");
        wh_text(b, k->desc);
        WH_LIT(b, "</span></li>");
    }
    WH_LIT(b, "</ul><p class=\"small muted\"><span id=\"class-count\">");
    wh_int(b, shown);
    WH_LIT(b, "</span> of ");
    wh_int(b, registry_nclasses);
    WH_LIT(b, " classes shown.</p>");
}

int docs_index(struct ctx *c)
{
    struct web_user u;
    struct wh_page p;
    char nonce[33], site[512], life[32];
    int v = c->version;
    if (web_auth(c, WEB_DOCS, 1, &u) != 0)
        return 0;
    web_site_url(c, site, sizeof site);
    settings_get(c->w->db, "token_lifetime", life, sizeof life);
    const char *query = params_str(web_params(c), "q");
    web_page_begin(c, &p, nonce, v == 1 ? "API v1 documentation" : "API v2 documentation", &u);
    struct buf *b = &c->out;
    WH_LIT(b, "<h1>grantd REST API ");
    WH_LIT(b, "<span class=\"muted\">v");
    wh_int(b, v);
    WH_LIT(b, "</span></h1><p>The Fluxx grants-management REST API at <code>");
    wh_text(b, site);
    WH_LIT(b, "</code>. ");
    if (v == 1)
        WH_LIT(b, "Version 1 picks fields with <code>style</code> and keeps null members; "
                  "new integrations should use <a href=\"/api/rest/v2/doc\">v2</a>.");
    else
        WH_LIT(b, "Version 2 picks fields with <code>cols</code> and omits null members. The "
                  "older <a href=\"/api/rest/v1/doc\">v1</a> is still served.");
    WH_LIT(b, "</p><nav class=\"toc\"><a href=\"#token\">Token</a><a href=\"#parameters\">"
              "Parameters</a><a href=\"#routes\">Methods and routes</a><a href=\"#limits\">"
              "Rate limits</a><a href=\"#errors\">Errors</a><a href=\"#machine\">OpenAPI and "
              "Postman</a><a href=\"#classes\">Classes</a></nav>");

    WH_LIT(b, "<h2 id=\"token\">Getting a token</h2><p>An admin or super_user creates an "
              "application at <a href=\"/oauth/applications\">/oauth/applications</a> (or "
              "<code>grantd client add</code>) and gets a client id and a secret, shown once. "
              "Exchange them for an access token (client credentials; it lasts ");
    wh_text(b, life);
    WH_LIT(b, " seconds), then send it as a bearer token:</p>");
    struct buf cmd;
    buf_init(&cmd);
    samples_token_line(&cmd, site);
    samples_block(b, "token", &cmd);
    cmd.len = 0;
    buf_adds(&cmd, "curl -G -H \"Authorization: Bearer $TOKEN\" '");
    buf_adds(&cmd, site);
    buf_adds(&cmd, v == 1 ? "/api/rest/v1/grant_request' -d style=compact -d per_page=5"
                          : "/api/rest/v2/grant_request' --data-urlencode "
                            "'cols=[\"project_title\",\"state\"]' -d per_page=5");
    samples_block(b, "first-call", &cmd);
    buf_release(&cmd);
    WH_LIT(b, "<p>A token acts as its application's owner: that user's role decides what it "
              "may read and write; a read-only application never writes. Tokens travel only in "
              "the <code>Authorization</code> header. <code>POST /oauth/revoke</code> and "
              "<code>POST /oauth/introspect</code> (RFC 7009, 7662) take the client credentials "
              "and a <code>token</code>.</p>");

    WH_LIT(b, "<h2 id=\"parameters\">Parameters</h2>");
    param_table(b, v);
    WH_LIT(b, "<h2 id=\"routes\">Methods and routes</h2>");
    routes_table(b, v);
    WH_LIT(b, "<h2 id=\"limits\">Rate limits</h2>");
    limits_table(c, b);
    WH_LIT(b, "<h2 id=\"errors\">Errors</h2>");
    errors_table(b);
    WH_LIT(b, "<h2 id=\"machine\">OpenAPI and Postman</h2><ul><li><a href=\"/api/rest/v2/"
              "openapi.json\">openapi.json</a>: OpenAPI 3.1, every class and route, with the "
              "OAuth2 client-credentials scheme.</li><li><a href=\"/api/rest/v2/postman.json\">"
              "postman.json</a>: a Postman v2.1 collection; set <code>client_id</code> and "
              "<code>client_secret</code> in its variables.</li><li><a href=\"/api/rest/v2/"
              "classes\">classes</a> and <code>/api/rest/v2/{class}/fields</code>: the classes "
              "and their fields as JSON.</li></ul><p class=\"small muted\">These and the pages "
              "take a signed-in session or a bearer token of a developer, super_user or admin."
              "</p>");
    WH_LIT(b, "<h2 id=\"classes\">Classes</h2>");
    class_list(b, v, query);
    web_page_end(c, &p, 200);
    return 0;
}

/* ---- a class page ---- */

static void workflow_section(struct buf *b, const struct class_def *k)
{
    if (!k->wf) {
        if (registry_field(k, "state"))
            WH_LIT(b, "<p>Its <code>state</code> is a plain string without transition rules."
                      "</p>");
        return;
    }
    WH_LIT(b, "<h2 id=\"workflow\">Workflow</h2><p>Records start in <code>");
    wh_text(b, k->wf->states[0]);
    WH_LIT(b, "</code>. An update of <code>state</code> may only follow these transitions "
              "(else error 104); each accepted change writes a <code>workflow_event</code>.</p>"
              "<div class=\"scroll\"><table><thead><tr><th>state</th><th>may move to</th></tr>"
              "</thead><tbody>");
    for (const char *const *s = k->wf->states; *s; s++) {
        int any = 0;
        WH_LIT(b, "<tr><td class=\"name\">");
        wh_text(b, *s);
        WH_LIT(b, "</td><td>");
        for (int i = 0; i < k->wf->ntransitions; i++) {
            if (strcmp(k->wf->transitions[i].from, *s) != 0)
                continue;
            if (any)
                WH_LIT(b, ", ");
            WH_LIT(b, "<code>");
            wh_text(b, k->wf->transitions[i].to);
            WH_LIT(b, "</code>");
            any = 1;
        }
        if (!any)
            WH_LIT(b, "<span class=\"muted\">(final)</span>");
        WH_LIT(b, "</td></tr>");
    }
    WH_LIT(b, "</tbody></table></div>");
}

static int field_matches(const char *q, const struct field *f)
{
    char a[700];
    if (!q || !*q)
        return 1;
    snprintf(a, sizeof a, "%s %s", f->name, f->desc ? f->desc : "");
    lower(a, a, sizeof a);
    return strstr(a, q) != NULL;
}

static void field_table(struct buf *b, const struct class_def *k, int v, const char *query)
{
    char q[128];
    int n = docs_nfields(k), shown = 0, total = 0;
    lower(query, q, sizeof q);
    WH_LIT(b, "<h2 id=\"fields\">Fields</h2><form class=\"search\" method=\"get\" action=\"");
    WH_LIT(b, "#fields\" role=\"search\"><input type=\"search\" name=\"q\" id=\"field-search\" "
              "placeholder=\"Search fields\" aria-label=\"Search fields\" "
              "data-filter=\"field-rows\" data-count=\"field-count\" maxlength=\"100\" value=\"");
    wh_text(b, query && strlen(query) < 100 ? query : "");
    WH_LIT(b, "\"><button type=\"submit\">Search</button></form><div class=\"scroll\"><table "
              "id=\"field-table\"><thead><tr><th>name</th><th>description</th><th>permission"
              "</th><th>data_type</th><th>related_class</th><th>type</th><th>groupable</th>"
              "</tr></thead><tbody id=\"field-rows\">");
    for (int i = 0; i < n; i++) {
        const struct field *f = docs_field(k, i);
        if (!f)
            continue;
        total++;
        if (!field_matches(q, f))
            continue;
        shown++;
        const struct class_def *t = docs_related(f);
        char name[200];
        lower(f->name, name, sizeof name);
        WH_LIT(b, "<tr data-name=\"");
        wh_text(b, name);
        WH_LIT(b, "\"><td class=\"name\">");
        wh_text(b, f->name);
        if (docs_dynamic(f))
            WH_LIT(b, "<abbr title=\"site-defined (dynamic) field\">*</abbr>");
        WH_LIT(b, "</td><td>");
        wh_text(b, f->desc);
        {
            const char *tags[8];
            int nt = 0;
            if (f->flags & FF_REQUIRED)
                tags[nt++] = "required on create";
            if (f->flags & FF_FULLTEXT)
                tags[nt++] = "full-text";
            if (f->flags & FF_MASKED)
                tags[nt++] = "masked except to admin and super_user";
            if (f->flags & FF_ADMINSET)
                tags[nt++] = "only admin sets it";
            if (f->flags & FF_DATEONLY)
                tags[nt++] = "date only";
            if (docs_dynamic(f))
                tags[nt++] = "site-defined";
            if (docs_plural(f))
                tags[nt++] = "plural";
            for (int j = 0; j < nt; j++) {
                if (j)
                    WH_LIT(b, " \xc2\xb7 ");
                else
                    WH_LIT(b, " <span class=\"muted small\">");
                wh_text(b, tags[j]);
            }
            if (nt)
                WH_LIT(b, "</span>");
            if (f->enumvals) {
                WH_LIT(b, " <span class=\"muted small\">values: ");
                wh_text(b, f->enumvals);
                WH_LIT(b, "</span>");
            }
        }
        WH_LIT(b, "</td><td>");
        if (docs_writable(k, f))
            WH_LIT(b, "[:create, :update]");
        else
            WH_LIT(b, "[]");
        WH_LIT(b, "</td><td>");
        wh_text(b, docs_data_type(f));
        WH_LIT(b, "</td><td>");
        if (t) {
            WH_LIT(b, "<a href=\"/api/rest/v");
            wh_int(b, v);
            buf_addc(b, '/');
            wh_text(b, t->name);
            WH_LIT(b, "/doc\">");
            wh_text(b, t->camel);
            WH_LIT(b, "</a>");
        } else if (f->target) {
            wh_text(b, f->target);
        }
        WH_LIT(b, "</td><td>");
        wh_text(b, docs_kind(f));
        WH_LIT(b, "</td><td>");
        if (docs_groupable(f))
            WH_LIT(b, "yes");
        else
            WH_LIT(b, "no");
        WH_LIT(b, "</td></tr>");
    }
    WH_LIT(b, "</tbody></table></div><p class=\"small muted\"><span id=\"field-count\">");
    wh_int(b, shown);
    WH_LIT(b, "</span> of ");
    wh_int(b, total);
    WH_LIT(b, " fields shown. Names ending in * are site-defined fields (model_attribute). "
              "Secret fields are never rendered and are not listed.</p>");
}

int docs_class(struct ctx *c)
{
    struct web_user u;
    struct wh_page p;
    char nonce[33], site[512];
    int v = c->version;
    if (web_auth(c, WEB_DOCS, 1, &u) != 0)
        return 0;
    const struct class_def *k = class_from_path(c, 1, &u);
    if (!k)
        return 0;
    web_site_url(c, site, sizeof site);
    const char *query = params_str(web_params(c), "q");
    web_page_begin(c, &p, nonce, k->name, &u);
    struct buf *b = &c->out;
    WH_LIT(b, "<p><a href=\"/api/rest/v");
    wh_int(b, v);
    WH_LIT(b, "/doc#classes\">\xe2\x86\x90 All classes</a></p><h1><code>");
    wh_text(b, k->name);
    WH_LIT(b, "</code> <span class=\"muted small\">");
    wh_text(b, k->camel);
    WH_LIT(b, " \xc2\xb7 v");
    wh_int(b, v);
    WH_LIT(b, "</span></h1><p>");
    wh_text(b, k->desc);
    WH_LIT(b, "</p><ul><li>Writes: ");
    wh_text(b, docs_writers(k));
    WH_LIT(b, ".</li><li>Readers: admin, super_user, employee and developer read every record");
    if (k->scope == SCOPE_NONE)
        WH_LIT(b, "; grantees see none.");
    else if (k->scope == SCOPE_ALL)
        WH_LIT(b, "; so do grantees (reference data).");
    else
        WH_LIT(b, "; grantees only their own organization's.");
    WH_LIT(b, "</li></ul><nav class=\"toc\"><a href=\"#samples\">Samples</a>");
    if (k->wf)
        WH_LIT(b, "<a href=\"#workflow\">Workflow</a>");
    WH_LIT(b, "<a href=\"#fields\">Fields</a></nav>");
    WH_LIT(b, "<h2 id=\"samples\">Samples</h2><p>Each line works as it is once "
              "<code>$TOKEN</code> holds a token (<a href=\"/api/rest/v");
    wh_int(b, v);
    WH_LIT(b, "/doc#token\">how to get one</a>). The records they name exist on this site "
              "now; the update, promote and delete samples change real data.</p>");
    samples_render(c, b, k, v, site, u.user_id);
    workflow_section(b, k);
    field_table(b, k, v, query);
    web_page_end(c, &p, 200);
    return 0;
}
