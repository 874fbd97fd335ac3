/* libFuzzer target for the filter parser and compiler (src/filter.c). Each input is JSON
 * text compiled for a few registry classes under settings derived from the input. A
 * compiled filter must name only registry identifiers, carry every client value as a
 * bound parameter, and prepare and run on an in-memory database with grantd's schema; a
 * refused one must explain itself in valid UTF-8. Any other outcome aborts. Inputs that
 * start with "TZif" go to the time-zone file reader instead. */
#include "auth.h"
#include "filter.h"
#include "registry.h"
#include "sql.h"
#include "store.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store_conn *db;
static const struct class_def *classes[5];
static const struct filter_zone *zones[4]; /* zones[0] stays NULL: UTC */
static const char **idents;                /* every registry class and column name, sorted */
static size_t nidents;

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *what, const char *detail, const char *sql)
{
    fprintf(stderr, "fuzz_filter: %s: %s\n", what, detail ? detail : "");
    if (sql)
        fprintf(stderr, "SQL: %s\n", sql);
    abort();
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_ident(const char *s, size_t *cap)
{
    if (!s)
        return;
    if (nidents == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        idents = realloc(idents, *cap * sizeof *idents);
        if (!idents)
            abort();
    }
    idents[nidents++] = s;
}

static int is_ident(const char *s, size_t n)
{
    char buf[128];
    const char *key = buf;

    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    return bsearch(&key, idents, nidents, sizeof *idents, cmp_str) != NULL;
}

/* Callers: none (no limits), a grantee (policy.c's scope on every sub-query over a related
 * class) and a developer (masked fields refused). */
static const struct principal grantee = {.user_id = 7, .role = "grantee"};
static const struct principal developer = {.user_id = 8, .role = "developer"};
static const struct principal *const callers[] = {NULL, &grantee, &developer};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const names[] = {"grant_request", "request_transaction", "organization",
                                        "program", "user"};
    static const char *const zone_names[] = {"America/Los_Angeles", "Pacific/Auckland",
                                             "Australia/Lord_Howe"};
    char err[512];
    size_t cap = 0;

    (void)argc;
    (void)argv;
    db = store_conn_open(":memory:", STORE_CREATE, err, sizeof err);
    if (!db || store_migrate(db, err, sizeof err) != 0)
        die("cannot build the schema", err, NULL);
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        classes[i] = registry_class(names[i], strlen(names[i]));
        if (!classes[i])
            die("class missing from the registry", names[i], NULL);
    }
    for (size_t i = 0; i < ARRAY_LEN(zone_names); i++)
        zones[i + 1] = filter_zone_load(zone_names[i]);
    for (int i = 0; i < registry_nclasses; i++) {
        const struct class_def *c = &registry_classes[i];
        add_ident(c->name, &cap);
        for (int k = 0; k < c->nfields; k++) {
            add_ident(c->fields[k].name, &cap);
            add_ident(c->fields[k].via, &cap);
        }
    }
    qsort(idents, nidents, sizeof *idents, cmp_str);
    return 0;
}

static int word_ok(const char *w, size_t n)
{
    static const char *const words[] = {"SELECT", "FROM", "WHERE",  "AND",   "OR",
                                        "NOT",    "IS",   "NULL",   "TRUE",  "EXISTS",
                                        "IN",     "LIKE", "ESCAPE", "instr", "grantd_fold"};
    size_t i;

    for (i = 0; i < ARRAY_LEN(words); i++)
        if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0)
            return 1;
    /* Table aliases: the root "t", sub-queries "t_<n>", and the scope's (policy.c). */
    if ((n == 1 && (w[0] == 't' || w[0] == 'g')) ||
        (n == 2 && (memcmp(w, "uo", 2) == 0 || memcmp(w, "u2", 2) == 0)))
        return 1;
    if (n < 3 || w[0] != 't' || w[1] != '_')
        return 0;
    for (i = 2; i < n; i++)
        if (w[i] < '0' || w[i] > '9')
            return 0;
    return 1;
}

/* Every token of the compiled expression is a registry identifier in double quotes, an
 * allowed keyword, function or alias, the constants 0 and 1, the literals '\' (LIKE's
 * escape) and the scope's documentable types, punctuation, or a `?` placeholder; and there
 * are exactly nargs placeholders. */
static void check_sql(const char *s, size_t n, int nargs)
{
    int placeholders = 0;
    size_t i = 0, j;

    while (i < n) {
        char ch = s[i];
        if (ch == '"') {
            for (j = i + 1; j < n && s[j] != '"'; j++)
                ;
            if (j >= n || !is_ident(s + i + 1, j - i - 1))
                die("not a registry identifier", s + i, s);
            i = j + 1;
        } else if (ch == '\'') {
            /* LIKE's escape, and the scope's documentable types */
            static const char *const lits[] = {"'\\'", "'GrantRequest'", "'Organization'"};
            size_t k;
            for (k = 0; k < ARRAY_LEN(lits); k++)
                if (n - i >= strlen(lits[k]) && memcmp(s + i, lits[k], strlen(lits[k])) == 0)
                    break;
            if (k == ARRAY_LEN(lits))
                die("a string literal in compiled SQL", s + i, s);
            i += strlen(lits[k]);
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
            for (j = i; j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                                  (s[j] >= '0' && s[j] <= '9') || s[j] == '_');
                 j++)
                ;
            if (!word_ok(s + i, j - i))
                die("an unexpected word in compiled SQL", s + i, s);
            i = j;
        } else if (ch >= '0' && ch <= '9') {
            if ((ch != '0' && ch != '1') || (i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9'))
                die("a number literal in compiled SQL", s + i, s);
            i++;
        } else if (ch == '?') {
            placeholders++;
            i++;
        } else if (strchr(" ().,=<>!", ch)) {
            i++;
        } else {
            die("an unexpected character in compiled SQL", s + i, s);
        }
    }
    if (placeholders != nargs)
        die("placeholders and bound values differ", NULL, s);
}

static uint32_t hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

static void run_one(const struct class_def *c, json_t *j, const struct filter_env *env)
{
    char err[512];
    struct sql q;
    struct store_stmt *st = NULL;
    size_t start;
    int rc;

    sql_init(&q);
    sql_append(&q, "SELECT count(*) FROM ");
    sql_ident(&q, c->name);
    sql_append(&q, " t WHERE ");
    start = q.len;
    err[0] = 0;
    rc = filter_compile(c, j, "t", env, &q, err, sizeof err);
    if (rc != 0) {
        json_t *msg = json_string(err);
        /* (Messages echo client text, clipped, so they are not searched for SQL here;
         * the unit tests pin every message.) */
        if (rc != -1 || !err[0] || !msg)
            die("a refusal without a valid message", err, NULL);
        json_decref(msg);
        goto out;
    }
    check_sql(q.buf + start, q.len - start, q.nargs);
    rc = store_prepare_sql(db, &q, &st);
    if (rc != STORE_OK)
        die("compiled SQL does not prepare", store_errmsg(db), q.buf);
    rc = store_step(st);
    if (rc != STORE_ROW)
        die("compiled SQL does not run", store_errmsg(db), q.buf);
out:
    store_finalize(st);
    sql_release(&q);
}

/* A zone file: parsed or refused; a parsed zone answers offsets and day starts sanely. */
static void run_tzif(const uint8_t *data, size_t size)
{
    static const int64_t days[] = {-719162, -1, 0, 19858, 2932896, 100000000};
    struct filter_zone *z = filter_zone_parse(data, size);

    if (!z)
        return;
    for (size_t i = 0; i < ARRAY_LEN(days); i++) {
        int64_t t = filter_zone_day_start(z, days[i]);
        int32_t off = filter_zone_offset(z, t);
        if (off < -89999 || off > 93599)
            die("zone offset out of range", NULL, NULL);
        (void)filter_zone_offset(z, days[i] * 86400 + (int64_t)(i * 3607));
    }
    filter_zone_free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t nows[] = {1715742000, 1709208000, 1710064800, 951782400, -86400};
    struct filter_env env;
    uint32_t h = hash(data, size);
    json_t *j;

    if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
        run_tzif(data, size);
        return 0;
    }
    j = json_loadb((const char *)data, size,
                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (!j)
        return 0;
    memset(&env, 0, sizeof env);
    env.now = nows[h % ARRAY_LEN(nows)];
    env.week_start = (int)(h >> 4) % 9;    /* 0 and 8 are out of range on purpose */
    env.fiscal_start = (int)(h >> 8) % 14; /* likewise 0 and 13 */
    env.zone = zones[(h >> 12) % ARRAY_LEN(zones)];
    env.who = callers[(h >> 14) % ARRAY_LEN(callers)];
    for (size_t i = 0; i < ARRAY_LEN(classes); i++)
        run_one(classes[i], j, &env);
    run_one(classes[0], j, NULL);
    json_decref(j);
    return 0;
}
