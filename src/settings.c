/* Site settings (`grantd config`): a table of keys with defaults and checks, stored in
 * grantd_setting through store.h. */
#include "settings.h"
#include "registry.h"
#include "store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* ---- site settings ---- */

static int check_status(const char *v)
{
    return strcmp(v, "implementation") && strcmp(v, "live") && strcmp(v, "suspended");
}

static int check_error_status(const char *v)
{
    return strcmp(v, "fluxx") && strcmp(v, "http");
}

static int check_posint(const char *v)
{
    if (!*v || strlen(v) > 9)
        return -1;
    for (const char *p = v; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    return atol(v) > 0 ? 0 : -1;
}

static int check_week_start(const char *v)
{
    return check_posint(v) || atoi(v) > 7;
}

static int check_month(const char *v)
{
    return check_posint(v) || atoi(v) > 12;
}

static int check_url(const char *v)
{
    return strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0;
}

/* An IANA zone name must name a file under the system's zoneinfo; no `..` escapes. */
static int check_zone(const char *v)
{
    if (!*v || strlen(v) > 64 || strstr(v, "..") || v[0] == '/')
        return -1;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
            return -1;
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", v);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

static int check_ms(const char *v)
{
    if (!*v || strlen(v) > 6)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return atoi(v) <= 600000 ? 0 : -1;
}

/* "none", or class names separated by commas (no spaces) */
static int check_classes(const char *v)
{
    if (strcmp(v, "none") == 0)
        return 0;
    if (!*v || strlen(v) > 500)
        return -1;
    for (const char *p = v;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!n || !registry_class(p, n))
            return -1;
        if (!e)
            return 0;
        p = e + 1;
    }
}

const struct setting_def settings_table[] = {
    {"site_url", "http://127.0.0.1:8080", "public base URL used in documentation samples",
     check_url},
    {"site_status", "implementation", "implementation | live | suspended", check_status},
    {"error_status", "fluxx", "fluxx (errors 100-104 answer 200) | http", check_error_status},
    {"token_lifetime", "7200", "access token lifetime in seconds", check_posint},
    {"time_zone", "UTC", "IANA time zone for relative-date filters", check_zone},
    {"week_start", "1", "first day of the week, 1 = Monday ... 7 = Sunday", check_week_start},
    {"fiscal_year_start_month", "1", "month (1-12) in which the fiscal year starts", check_month},
    {"query_time_limit", "500",
     "milliseconds a read's queries may run before it answers 503 (0: no limit)", check_ms},
    {"rate_limit.index", "1500", "list calls per client per 60 s", check_posint},
    {"rate_limit.get", "180", "fetches per client per 60 s", check_posint},
    {"rate_limit.write", "60", "writes per client per 60 s", check_posint},
    {"require_if_match", "none",
     "classes whose updates and deletes must send If-Match (428 without), e.g. "
     "request_transaction; none",
     check_classes},
    {"change_retention_days", "30",
     "days the change log keeps entries for the change feed (older cursors must resynchronise)",
     check_posint},
    {NULL, NULL, NULL, NULL},
};

const struct setting_def *settings_def(const char *key)
{
    for (const struct setting_def *s = settings_table; s->key; s++)
        if (strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

int settings_get(struct store_conn *db, const char *key, char *out, size_t outlen)
{
    const struct setting_def *d = settings_def(key);
    if (!d)
        return -1;
    snprintf(out, outlen, "%s", d->def);
    struct store_stmt *st = NULL;
    if (store_prepare(db, "SELECT value FROM grantd_setting WHERE key = ?", STORE_NUL, 0, &st) !=
        STORE_OK)
        return 0;
    store_bind_text(st, 1, key, -1);
    if (store_step(st) == STORE_ROW)
        snprintf(out, outlen, "%s", (const char *)store_col_text(st, 0));
    store_finalize(st);
    return 0;
}

long long settings_int(struct store_conn *db, const char *key)
{
    char v[64];
    if (settings_get(db, key, v, sizeof v) != 0)
        return 0;
    return atoll(v);
}

int settings_set(struct store_conn *db, const char *key, const char *value, char *err,
                 size_t errlen)
{
    const struct setting_def *d = settings_def(key);
    if (!d) {
        snprintf(err, errlen, "unknown setting '%s'", key);
        return -1;
    }
    if (d->check && d->check(value) != 0) {
        snprintf(err, errlen, "invalid value for %s (%s)", key, d->help);
        return -1;
    }
    struct store_stmt *st = NULL;
    int rc = -1;
    if (store_prepare(
            db,
            "INSERT INTO grantd_setting(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = excluded.value",
            STORE_NUL, 0, &st) != STORE_OK) {
        seterr(err, errlen, store_errmsg(db));
        return -1;
    }
    store_bind_text(st, 1, key, -1);
    store_bind_text(st, 2, value, -1);
    if (store_step(st) == STORE_DONE)
        rc = 0;
    else
        seterr(err, errlen, store_errmsg(db));
    store_finalize(st);
    return rc;
}
