/* Machine-readable descriptions of the API, from the same registry rows as the pages:
 * /api/rest/v2/openapi.json (OpenAPI 3.1: every class and route, parameters, request and
 * response schemas, the OAuth2 client-credentials scheme) and /api/rest/v2/postman.json
 * (a Postman v2.1 collection with collection-level OAuth2 client-credentials auth and one
 * request per route and class). Built with jansson: these are not hot paths. */
#include "docs.h"
#include "feed.h"
#include "params.h"
#include "sql.h"
#include "web.h"

#include <stdio.h>
#include <string.h>

/* ---- OpenAPI ---- */

static json_t *ref(const char *kind, const char *name)
{
    char r[200];
    snprintf(r, sizeof r, "#/components/%s/%s", kind, name);
    return json_pack("{s:s}", "$ref", r);
}

static json_t *enum_values(const char *vals)
{
    json_t *e = json_array();
    while (*vals) {
        size_t l = strcspn(vals, "|");
        json_array_append_new(e, json_stringn(vals, l));
        vals += l;
        if (*vals == '|')
            vals++;
    }
    return e;
}

static json_t *field_schema(const struct class_def *k, const struct field *f)
{
    json_t *s = json_object();
    switch (f->type) {
    case FT_INT:
        json_object_set_new(s, "type", json_string("integer"));
        break;
    case FT_REF: /* an id; an array of objects when expanded with `relation` */
        json_object_set_new(s, "type", json_pack("[ss]", "integer", "array"));
        break;
    case FT_DECIMAL:
        json_object_set_new(s, "type", json_pack("[ss]", "number", "string"));
        break;
    case FT_FLOAT:
        json_object_set_new(s, "type", json_string("number"));
        break;
    case FT_BOOL:
        json_object_set_new(s, "type", json_string("boolean"));
        break;
    case FT_DATE:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "format", json_string("date"));
        break;
    case FT_DATETIME:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "format", json_string("date-time"));
        break;
    case FT_STRING:
    case FT_TEXT:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "maxLength",
                            json_integer(f->maxlen              ? f->maxlen
                                         : f->type == FT_STRING ? 255
                                                                : 65535));
        break;
    case FT_REF_ALIAS:
    case FT_HAS_MANY:
        json_object_set_new(s, "type", json_string("array"));
        json_object_set_new(s, "items", json_pack("{s:[ss]}", "type", "integer", "object"));
        break;
    case FT_MULTI:
        json_object_set_new(s, "type", json_string("array"));
        break;
    }
    if (f->enumvals && (f->type == FT_STRING || f->type == FT_TEXT))
        json_object_set_new(s, "enum", enum_values(f->enumvals));
    if (f->desc)
        json_object_set_new(s, "description", json_string(f->desc));
    if (!docs_writable(k, f))
        json_object_set_new(s, "readOnly", json_true());
    if (docs_dynamic(f))
        json_object_set_new(s, "x-grantd-dynamic", json_true());
    return s;
}

static json_t *class_schema(const struct class_def *k)
{
    json_t *props = json_object();
    int n = docs_nfields(k);
    for (int i = 0; i < n; i++) {
        const struct field *f = docs_field(k, i);
        if (f)
            json_object_set_new(props, f->name, field_schema(k, f));
    }
    return json_pack("{s:s,s:s,s:o,s:[s]}", "type", "object", "description",
                     k->desc ? k->desc : k->camel, "properties", props, "required", "id");
}

static json_t *param(const char *name, const char *in, const char *desc, json_t *schema,
                     int required)
{
    json_t *p = json_pack("{s:s,s:s,s:s,s:o}", "name", name, "in", in, "description", desc,
                          "schema", schema);
    if (required)
        json_object_set_new(p, "required", json_true());
    return p;
}

static json_t *json_media(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json; charset=utf-8", "schema", schema);
}

static json_t *ok_response(const char *desc, json_t *schema)
{
    return json_pack("{s:{s:s,s:o}}", "200", "description", desc, "content", json_media(schema));
}

static void add_errors(json_t *responses, int auth)
{
    if (auth) {
        json_object_set_new(responses, "401", ref("responses", "Unauthorized"));
        json_object_set_new(responses, "403", ref("responses", "Forbidden"));
        json_object_set_new(responses, "429", ref("responses", "TooManyRequests"));
    }
    json_object_set_new(responses, "503", ref("responses", "Unavailable"));
}

static json_t *list_params(int with_all)
{
    static const char *const names[] = {
        "cols", "relation", "filter", "query",       "sort",     "page",        "per_page",
        "all",  "deleted",  "group",  "aggregation", "all_core", "all_dynamic", NULL};
    json_t *a = json_array();
    for (int i = 0; names[i]; i++)
        if (with_all || i < 2)
            json_array_append_new(a, ref("parameters", names[i]));
    return a;
}

static json_t *form_body(const char *desc, int write)
{
    json_t *props = json_object();
    if (write)
        json_object_set_new(props, "data",
                            json_pack("{s:s,s:s}", "type", "string", "description",
                                      "JSON object of field \xe2\x86\x92 value"));
    else
        json_object_set_new(props, "filter",
                            json_pack("{s:s,s:s}", "type", "string", "description",
                                      "JSON filter (advanced grammar)"));
    json_object_set_new(
        props, "cols",
        json_pack("{s:s,s:s}", "type", "string", "description", "JSON array of field names"));
    json_t *jprops = json_object();
    json_object_set_new(jprops, write ? "data" : "filter", json_pack("{s:s}", "type", "object"));
    json_object_set_new(jprops, "cols",
                        json_pack("{s:s,s:{s:s}}", "type", "array", "items", "type", "string"));
    return json_pack("{s:s,s:b,s:{s:{s:{s:s,s:o}},s:{s:{s:s,s:o}}}}", "description", desc,
                     "required", write, "content", "application/x-www-form-urlencoded", "schema",
                     "type", "object", "properties", props, "application/json", "schema", "type",
                     "object", "properties", jprops);
}

static json_t *op(const char *id, const char *summary, const char *tag, json_t *params,
                  json_t *responses)
{
    json_t *o = json_pack("{s:s,s:s,s:[s],s:o}", "operationId", id, "summary", summary, "tags", tag,
                          "responses", responses);
    if (params)
        json_object_set_new(o, "parameters", params);
    return o;
}

static void class_paths(json_t *paths, const struct class_def *k)
{
    char p[200], id[200], s[64];
    int writable = !(k->flags & CF_READONLY);
    json_t *one = json_pack("{s:s,s:{s:o}}", "type", "object", "properties", k->name,
                            ref("schemas", k->name));
    json_t *list = json_pack(
        "{s:s,s:{s:{s:s,s:{s:{s:s,s:o}}},s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}", "type", "object",
        "properties", "records", "type", "object", "properties", k->name, "type", "array", "items",
        ref("schemas", k->name), "total_pages", "type", "integer", "total_entries", "type",
        "integer", "current_page", "type", "integer", "per_page", "type", "integer");

    /* /api/rest/v2/{class} */
    json_t *item = json_object();
    json_t *r = ok_response("a page of records", json_deep_copy(list));
    add_errors(r, 1);
    snprintf(id, sizeof id, "list_%s", k->name);
    json_object_set_new(item, "get", op(id, "List records", k->name, list_params(1), r));
    if (writable) {
        r = ok_response("the created record", json_deep_copy(one));
        add_errors(r, 1);
        snprintf(id, sizeof id, "create_%s", k->name);
        json_t *o = op(id, "Create a record", k->name, list_params(0), r);
        json_object_set_new(o, "requestBody", form_body("data: the new record's fields", 1));
        json_object_set_new(item, "post", o);
    }
    snprintf(p, sizeof p, "/api/rest/v2/%s", k->name);
    json_object_set_new(paths, p, item);

    /* /api/rest/v2/{class}/list */
    item = json_object();
    r = ok_response("a page of records", json_deep_copy(list));
    add_errors(r, 1);
    snprintf(id, sizeof id, "list_get_%s", k->name);
    json_object_set_new(item, "get",
                        op(id, "List records (alternate path)", k->name, list_params(1), r));
    r = ok_response("a page of records", json_deep_copy(list));
    add_errors(r, 1);
    snprintf(id, sizeof id, "list_post_%s", k->name);
    json_t *o = op(id, "List records, parameters in the body", k->name, NULL, r);
    json_object_set_new(o, "requestBody", form_body("list parameters", 0));
    json_object_set_new(item, "post", o);
    snprintf(p, sizeof p, "/api/rest/v2/%s/list", k->name);
    json_object_set_new(paths, p, item);

    /* /api/rest/v2/{class}/{id} */
    item = json_object();
    json_object_set_new(item, "parameters", json_pack("[o]", ref("parameters", "id")));
    r = ok_response("the record (error 102 when it does not exist)", json_deep_copy(one));
    add_errors(r, 1);
    snprintf(id, sizeof id, "fetch_%s", k->name);
    json_object_set_new(item, "get", op(id, "Fetch one record", k->name, list_params(0), r));
    if (writable) {
        const char *methods[] = {"put", "patch"};
        for (int i = 0; i < 2; i++) {
            r = ok_response("the updated record", json_deep_copy(one));
            add_errors(r, 1);
            snprintf(id, sizeof id, "%s_%s", i ? "patch" : "update", k->name);
            snprintf(s, sizeof s, "%s a record", i ? "Update (PATCH)" : "Update");
            o = op(id, s, k->name, list_params(0), r);
            json_object_set_new(o, "requestBody", form_body("data: the fields to change", 1));
            json_object_set_new(item, methods[i], o);
        }
        r = ok_response("true", json_pack("{s:s}", "type", "boolean"));
        add_errors(r, 1);
        snprintf(id, sizeof id, "delete_%s", k->name);
        json_object_set_new(item, "delete", op(id, "Soft-delete a record", k->name, NULL, r));
    }
    snprintf(p, sizeof p, "/api/rest/v2/%s/{id}", k->name);
    json_object_set_new(paths, p, item);
    json_decref(one);
    json_decref(list);
}

static json_t *components(const char *site)
{
    char url[600];
    json_t *schemas = json_object(), *params = json_object();
    for (int i = 0; i < registry_nclasses; i++)
        json_object_set_new(schemas, registry_classes[i].name, class_schema(&registry_classes[i]));
    json_object_set_new(
        schemas, "Error",
        json_pack("{s:s,s:{s:{s:s,s:{s:{s:s},s:{s:s},s:{s:s,s:{s:s,s:{s:{s:s},s:{s:s}}}}}}}}",
                  "type", "object", "properties", "error", "type", "object", "properties", "code",
                  "type", "integer", "message", "type", "string", "details", "type", "array",
                  "items", "type", "object", "properties", "field", "type", "string", "problem",
                  "type", "string"));
    static const char *const p[][3] = {
        {"cols", "JSON array of field names to return (v2); id always comes first.", "string"},
        {"relation",
         "JSON object: relation field \xe2\x86\x92 array of fields of the related "
         "class.",
         "string"},
        {"filter", "JSON filter: groups of [field, operator, operand] conditions.", "string"},
        {"query", "Full-text search words.", "string"},
        {"sort", "JSON [field, direction] or a list of them.", "string"},
        {"page", "Page number from 1.", "integer"},
        {"per_page", "Records per page (default 25, at most 500).", "integer"},
        {"all", "Accepted for compatibility; changes nothing.", "string"},
        {"deleted", "include or only: soft-deleted records too, or only them.", "string"},
        {"group", "JSON array of fields to group by.", "string"},
        {"aggregation", "JSON object field \xe2\x86\x92 sum|count|avg|min|max.", "string"},
        {"all_core", "1: every column of the class.", "string"},
        {"all_dynamic", "1: every site-defined field.", "string"},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        json_object_set_new(
            params, p[i][0],
            param(p[i][0], "query", p[i][1], json_pack("{s:s}", "type", p[i][2]), 0));
    json_object_set_new(params, "id",
                        param("id", "path", "The record's id.",
                              json_pack("{s:s,s:i}", "type", "integer", "minimum", 1), 1));
    snprintf(url, sizeof url, "%s/oauth/token", site);
    json_t *err = json_media(ref("schemas", "Error"));
    return json_pack(
        "{s:o,s:o,s:{s:{s:s,s:s,s:{s:{s:s,s:{}}}}},s:{s:{s:s,s:o},s:{s:s,s:o},s:{s:s,s:o},"
        "s:{s:s,s:o}}}",
        "schemas", schemas, "parameters", params, "securitySchemes", "oauth2", "type", "oauth2",
        "description", "OAuth 2 client credentials (POST /oauth/token)", "flows",
        "clientCredentials", "tokenUrl", url, "scopes", "responses", "Unauthorized", "description",
        "missing, invalid, expired or revoked token", "content", json_deep_copy(err), "Forbidden",
        "description", "the user's role or the client may not", "content", json_deep_copy(err),
        "TooManyRequests", "description", "rate limit exceeded", "content", json_deep_copy(err),
        "Unavailable", "description", "site suspended or database busy", "content", err);
}

static void meta_paths(json_t *paths)
{
    json_t *r;
    /* token endpoints: no bearer token */
    json_t *form = json_pack("{s:b,s:{s:{s:{s:s,s:{s:{s:s,s:[s]},s:{s:s},s:{s:s}},s:[s]}}}}",
                             "required", 1, "content", "application/x-www-form-urlencoded",
                             "schema", "type", "object", "properties", "grant_type", "type",
                             "string", "enum", "client_credentials", "client_id", "type", "string",
                             "client_secret", "type", "string", "required", "grant_type");
    r = ok_response("an access token",
                    json_pack("{s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}", "type", "object",
                              "properties", "access_token", "type", "string", "token_type", "type",
                              "string", "expires_in", "type", "integer", "created_at", "type",
                              "integer"));
    json_object_set_new(r, "400", json_pack("{s:s}", "description", "invalid_request"));
    json_object_set_new(r, "401", json_pack("{s:s}", "description", "invalid_client"));
    json_t *o = op("token", "Get an access token (client credentials)", "oauth", NULL, r);
    json_object_set_new(o, "security", json_array());
    json_object_set_new(o, "requestBody", form);
    json_object_set_new(paths, "/oauth/token", json_pack("{s:o}", "post", o));
    static const char *const other[][3] = {
        {"/oauth/revoke", "revoke", "Revoke one of the caller's tokens (RFC 7009)"},
        {"/oauth/introspect", "introspect", "Describe one of the caller's tokens (RFC 7662)"},
    };
    for (int i = 0; i < 2; i++) {
        r = ok_response("done", json_pack("{s:s}", "type", "object"));
        json_object_set_new(r, "401", json_pack("{s:s}", "description", "invalid_client"));
        o = op(other[i][1], other[i][2], "oauth", NULL, r);
        json_object_set_new(o, "security", json_array());
        json_object_set_new(o, "requestBody",
                            json_pack("{s:b,s:{s:{s:{s:s,s:{s:{s:s},s:{s:s},s:{s:s}}}}}}",
                                      "required", 1, "content", "application/x-www-form-urlencoded",
                                      "schema", "type", "object", "properties", "token", "type",
                                      "string", "client_id", "type", "string", "client_secret",
                                      "type", "string"));
        json_object_set_new(paths, other[i][0], json_pack("{s:o}", "post", o));
    }
    r = json_pack("{s:{s:s,s:{s:{s:{s:s}}}}}", "200", "description", "ok", "content",
                  "text/plain; charset=utf-8", "schema", "type", "string");
    o = op("healthz", "Liveness", "meta", NULL, r);
    json_object_set_new(o, "security", json_array());
    json_object_set_new(paths, "/healthz", json_pack("{s:o}", "get", o));
    static const char *const meta[][3] = {
        {"/api/rest/v2/classes", "classes", "Every class of this site (JSON)"},
        {"/api/rest/v2/openapi.json", "openapi", "This OpenAPI 3.1 description"},
        {"/api/rest/v2/postman.json", "postman", "A Postman v2.1 collection"},
    };
    for (int i = 0; i < 3; i++) {
        r = ok_response("JSON", json_pack("{s:s}", "type", "object"));
        add_errors(r, 1);
        json_object_set_new(paths, meta[i][0],
                            json_pack("{s:o}", "get", op(meta[i][1], meta[i][2], "meta", NULL, r)));
    }
    /* the change feed (feed.h) */
    json_t *change = json_pack(
        "{s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s,s:[s,s,s]},s:{s:s,s:{s:s}},s:{s:s,s:s},"
        "s:{s:[s,s]},s:{s:s}}}",
        "type", "object", "properties", "seq", "type", "integer", "class", "type", "string", "id",
        "type", "integer", "operation", "type", "string", "enum", "create", "update", "delete",
        "fields", "type", "array", "items", "type", "string", "at", "type", "string", "format",
        "date-time", "record", "type", "object", "null", "deleted", "type", "boolean");
    r = ok_response("the changes after the cursor, in commit order",
                    json_pack("{s:s,s:{s:{s:s,s:o},s:{s:s},s:{s:s},s:{s:s}}}", "type", "object",
                              "properties", "changes", "type", "array", "items", change,
                              "next_cursor", "type", "integer", "head", "type", "integer",
                              "has_more", "type", "boolean"));
    json_object_set_new(r, "410",
                        json_pack("{s:s}", "description",
                                  "the cursor is outside the log: copy the records "
                                  "again, then follow from the head"));
    add_errors(r, 1);
    json_t *fp = json_pack(
        "[o,o]",
        param("since", "query", "The cursor: 0, or the next_cursor of the previous answer.",
              json_pack("{s:s,s:i}", "type", "integer", "minimum", 0), 0),
        param("limit", "query", "Changes per answer.",
              json_pack("{s:s,s:i,s:i,s:i}", "type", "integer", "minimum", 1, "maximum",
                        FEED_LIMIT_MAX, "default", FEED_LIMIT_DEFAULT),
              0));
    json_object_set_new(
        paths, "/api/rest/v2/changes",
        json_pack("{s:o}", "get",
                  op("changes",
                     "The change feed: every committed write of a record after a cursor, with "
                     "the record's current values (admin, super_user and developer tokens)",
                     "meta", fp, r)));
    json_t *names = json_array();
    for (int i = 0; i < registry_nclasses; i++)
        json_array_append_new(names, json_string(registry_classes[i].name));
    r = ok_response("JSON", json_pack("{s:s}", "type", "object"));
    add_errors(r, 1);
    json_t *cp = param("class", "path", "A class name.",
                       json_pack("{s:s,s:o}", "type", "string", "enum", names), 1);
    json_object_set_new(paths, "/api/rest/v2/{class}/fields",
                        json_pack("{s:[o],s:o}", "parameters", cp, "get",
                                  op("fields", "The fields of one class (JSON)", "meta", NULL, r)));
}

int openapi_json(struct ctx *c)
{
    struct web_user u;
    char site[512];
    if (web_auth(c, WEB_DOCS, 0, &u) != 0)
        return 0;
    web_site_url(c, site, sizeof site);
    json_t *paths = json_object(), *tags = json_array();
    meta_paths(paths);
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *k = &registry_classes[i];
        class_paths(paths, k);
        json_array_append_new(tags, json_pack("{s:s,s:s}", "name", k->name, "description",
                                              k->desc ? k->desc : k->camel));
    }
    json_t *doc = json_pack(
        "{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:[{s:[]}],s:o,s:o,s:o}", "openapi", "3.1.0", "info",
        "title", "grantd REST API v2 (Fluxx-compatible)", "version", "2", "description",
        "Grants-management REST API compatible with Fluxx v2. Errors 100-104 answer HTTP 200 "
        "unless the site sets error_status=http.",
        "servers", "url", site, "security", "oauth2", "tags", tags, "paths", paths, "components",
        components(site));
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    c->out.len = 0;
    buf_adds(&c->out, s ? s : "{}");
    free(s);
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}

/* ---- Postman v2.1 ---- */

static json_t *pm_url(const char *path, const char *query_json_name, const char *query_value,
                      const char *id)
{
    json_t *segs = json_array();
    struct buf raw;
    buf_init(&raw);
    buf_adds(&raw, "{{baseUrl}}");
    buf_adds(&raw, path);
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        size_t l = strcspn(p, "/");
        if (l)
            json_array_append_new(segs, json_stringn(p, l));
        p += l;
    }
    json_t *u = json_pack("{s:[s],s:o}", "host", "{{baseUrl}}", "path", segs);
    if (query_json_name) {
        buf_addf(&raw, "?%s=%s", query_json_name, query_value);
        json_object_set_new(u, "query",
                            json_pack("[{s:s,s:s}]", "key", query_json_name, "value", query_value));
    }
    if (id)
        json_object_set_new(
            u, "variable",
            json_pack("[{s:s,s:s,s:s}]", "key", "id", "value", id, "description", "a record id"));
    json_object_set_new(u, "raw", json_string(raw.s));
    buf_release(&raw);
    return u;
}

static json_t *pm_request(const char *name, const char *method, json_t *url, const char *body)
{
    json_t *req = json_pack("{s:s,s:[],s:o}", "method", method, "header", "url", url);
    if (body) {
        json_t *kv = json_array();
        json_array_append_new(
            kv, json_pack("{s:s,s:s,s:s}", "key",
                          strcmp(method, "POST") == 0 && strstr(name, "List") ? "filter" : "data",
                          "value", body, "type", "text"));
        json_object_set_new(req, "body",
                            json_pack("{s:s,s:o}", "mode", "urlencoded", "urlencoded", kv));
    }
    return json_pack("{s:s,s:o}", "name", name, "request", req);
}

static int64_t first_id(struct store_conn *db, const struct class_def *k)
{
    struct sql q;
    struct store_stmt *st = NULL;
    int64_t id = 1;
    sql_init(&q);
    sql_append(&q, "SELECT \"id\" FROM ");
    sql_ident(&q, k->name);
    sql_append(&q, " WHERE \"deleted_at\" IS NULL ORDER BY \"id\" LIMIT 1");
    if (store_prepare_sql(db, &q, &st) == STORE_OK && store_step(st) == STORE_ROW)
        id = store_col_int(st, 0);
    store_finalize(st);
    sql_release(&q);
    return id;
}

int openapi_postman(struct ctx *c)
{
    struct web_user u;
    char site[512], path[200], idtxt[32];
    if (web_auth(c, WEB_DOCS, 0, &u) != 0)
        return 0;
    web_site_url(c, site, sizeof site);
    json_t *folders = json_array();
    json_t *oauth = json_array();
    json_t *tok = pm_request("Get a token", "POST", pm_url("/oauth/token", NULL, NULL, NULL), NULL);
    json_t *treq = json_object_get(tok, "request");
    json_object_set_new(treq, "auth", json_pack("{s:s}", "type", "noauth"));
    json_object_set_new(treq, "body",
                        json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]}", "mode", "urlencoded",
                                  "urlencoded", "key", "grant_type", "value", "client_credentials",
                                  "key", "client_id", "value", "{{client_id}}", "key",
                                  "client_secret", "value", "{{client_secret}}"));
    json_array_append_new(oauth, tok);
    json_array_append_new(folders, json_pack("{s:s,s:o}", "name", "OAuth", "item", oauth));
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *k = &registry_classes[i];
        json_t *items = json_array();
        snprintf(idtxt, sizeof idtxt, "%lld", (long long)first_id(c->w->db, k));
        snprintf(path, sizeof path, "/api/rest/v2/%s", k->name);
        json_array_append_new(
            items, pm_request("List", "GET", pm_url(path, "per_page", "25", NULL), NULL));
        snprintf(path, sizeof path, "/api/rest/v2/%s/list", k->name);
        json_array_append_new(
            items, pm_request("List (POST /list)", "POST", pm_url(path, NULL, NULL, NULL),
                              "{\"group_type\":\"and\",\"conditions\":[[\"id\",\"gt\","
                              "0]]}"));
        snprintf(path, sizeof path, "/api/rest/v2/%s/:id", k->name);
        json_array_append_new(items,
                              pm_request("Fetch", "GET", pm_url(path, NULL, NULL, idtxt), NULL));
        if (!(k->flags & CF_READONLY)) {
            snprintf(path, sizeof path, "/api/rest/v2/%s", k->name);
            json_array_append_new(
                items, pm_request("Create", "POST", pm_url(path, NULL, NULL, NULL), "{}"));
            snprintf(path, sizeof path, "/api/rest/v2/%s/:id", k->name);
            json_array_append_new(
                items, pm_request("Update", "PUT", pm_url(path, NULL, NULL, idtxt), "{}"));
            json_array_append_new(
                items, pm_request("Delete", "DELETE", pm_url(path, NULL, NULL, idtxt), NULL));
        }
        json_array_append_new(folders, json_pack("{s:s,s:s,s:o}", "name", k->name, "description",
                                                 k->desc ? k->desc : k->camel, "item", items));
    }
    json_t *auth = json_pack(
        "{s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},"
        "{s:s,s:s,s:s},{s:s,s:s,s:s}]}",
        "type", "oauth2", "oauth2", "key", "grant_type", "value", "client_credentials", "type",
        "string", "key", "accessTokenUrl", "value", "{{baseUrl}}/oauth/token", "type", "string",
        "key", "clientId", "value", "{{client_id}}", "type", "string", "key", "clientSecret",
        "value", "{{client_secret}}", "type", "string", "key", "client_authentication", "value",
        "body", "type", "string", "key", "addTokenTo", "value", "header", "type", "string", "key",
        "tokenName", "value", "grantd", "type", "string");
    json_t *doc =
        json_pack("{s:{s:s,s:s,s:s},s:o,s:o,s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "info",
                  "name", "grantd REST API v2", "description",
                  "Fluxx-compatible grants-management API. Set client_id and client_secret in the "
                  "collection variables; Postman fetches the token (client credentials).",
                  "schema", "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                  "item", folders, "auth", auth, "variable", "key", "baseUrl", "value", site,
                  "type", "string", "key", "client_id", "value", "", "type", "string", "key",
                  "client_secret", "value", "", "type", "string");
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    c->out.len = 0;
    buf_adds(&c->out, s ? s : "{}");
    free(s);
    ctx_send(c, 200, "application/json; charset=utf-8");
    return 0;
}
