/* Demo-data generator behind `grantd seed`. Every value comes from one splitmix64 stream
 * and from the UTC date of `today`, so a seed reproduces the same database. Rows go through
 * a small row builder that drops columns the schema lacks (store_table_columns),
 * so a registry change never breaks the seed. It writes rows only: no schema, no admin
 * users, no OAuth clients. Storage follows registry.h (decimals scaled by 10^4, datetimes
 * unix seconds, dates 'YYYY-MM-DD'). */
#include "seed.h"
#include "registry.h"
#include "sql.h"
#include "settings.h"
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define DAY 86400
#define DEC 10000 /* decimal scale: 10^4 */
#define TB_MAXCOLS 48
#define TB_SBUF 96
#define TB_BATCH 128 /* rows per INSERT statement */

/* ---------------------------------------------------------------- row builder */

enum tv_type { TV_NULL, TV_INT, TV_TEXT };

struct tval {
    enum tv_type type;
    int64_t i;
    const char *s; /* TV_TEXT: caller's string or sbuf; must live until tb_insert */
    char sbuf[TB_SBUF];
};

/* A queued value: texts live in the table's arena (offsets survive its growth). */
struct qval {
    int64_t i;
    size_t off, len;
    enum tv_type type;
};

/* Rows are queued and written `batch` at a time by one multi-row INSERT: the FTS5
 * triggers of the schema flush the full-text index at every statement, so one row per
 * statement is about six times slower. Ids are explicit, so nobody waits for a row. */
struct tbl {
    const char *name;
    const char *camel;
    int present; /* the table exists */
    char **have; /* its columns */
    int nhave;
    const char *cols[TB_MAXCOLS]; /* columns in the order the first row set them */
    int param[TB_MAXCOLS];        /* 1-based position among the present columns, or 0 */
    struct tval vals[TB_MAXCOLS];
    unsigned char set[TB_MAXCOLS];
    int ncols, pos, ready, nparams;
    const char *bad;       /* first builder misuse, reported by tb_insert */
    struct store_stmt *st; /* INSERT of `batch` rows */
    int batch, nq;         /* rows per statement, rows queued */
    struct qval *q;        /* nq * nparams queued values */
    struct buf text;       /* queued texts */
    int64_t next_id;
    long long rows;
};

enum {
    T_USER,
    T_COUNTRY,
    T_STATE,
    T_CITY,
    T_PROGRAM,
    T_SUB_PROGRAM,
    T_INITIATIVE,
    T_FUND,
    T_FUNDING_SOURCE,
    T_ORG,
    T_USER_ORG,
    T_GRANT,
    T_TXN,
    T_REPORT,
    T_EVENT,
    T_NOTE,
    T_COUNT
};

static const char *const table_names[T_COUNT][2] = {
    {"user", "User"},
    {"geo_country", "GeoCountry"},
    {"geo_state", "GeoState"},
    {"geo_city", "GeoCity"},
    {"program", "Program"},
    {"sub_program", "SubProgram"},
    {"initiative", "Initiative"},
    {"fund", "Fund"},
    {"funding_source", "FundingSource"},
    {"organization", "Organization"},
    {"user_organization", "UserOrganization"},
    {"grant_request", "GrantRequest"},
    {"request_transaction", "RequestTransaction"},
    {"request_report", "RequestReport"},
    {"workflow_event", "WorkflowEvent"},
    {"note", "Note"},
};

struct city {
    int64_t id, state_id, country_id;
    const char *name;
    int country; /* index into countries[] */
};

struct org {
    int64_t id, contact;
    const char *state;
};

struct seed {
    struct store_conn *db;
    uint64_t rng;
    int64_t now; /* midnight UTC of `today`: no past event (received, paid...) is later */
    char *err;
    size_t errlen;
    struct tbl t[T_COUNT];
    char **saved; /* CREATE INDEX statements to run again after the load */
    int nsaved, savedcap;
    int64_t creator; /* created_by_id/updated_by_id of every row */
    int64_t base_time;
    struct city *cities;
    int ncities, nus; /* the US cities come first */
    int64_t *staff;
    int nstaff;
    struct org *orgs;
    long norgs;
    int64_t prog_id[8], sub_id[8][3], init_id[8][3];
    int nprog;
    long long prog_total, prog_done;
    int prog_last, progress;
    const char *prog_label;
};

static void seterr(struct seed *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(struct seed *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->err || !s->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
}

static int add_have(void *arg, const char *name, const char *type)
{
    struct tbl *t = arg;
    (void)type;
    t->have = xrealloc(t->have, (size_t)(t->nhave + 1) * sizeof(*t->have));
    t->have[t->nhave++] = xstrdup(name);
    return 0;
}

/* Reads the table's columns; a missing table leaves present = 0. */
static int tb_open(struct seed *s, int ti)
{
    struct tbl *t = &s->t[ti];

    t->name = table_names[ti][0];
    t->camel = table_names[ti][1];
    if (store_table_columns(s->db, t->name, add_have, t) != 0) {
        seterr(s, "columns of %s: %s", t->name, store_errmsg(s->db));
        return -1;
    }
    t->present = t->nhave > 0;
    t->next_id = 1;
    return 0;
}

static int tb_has(const struct tbl *t, const char *col)
{
    for (int i = 0; i < t->nhave; i++)
        if (strcmp(t->have[i], col) == 0)
            return 1;
    return 0;
}

static void tb_release(struct tbl *t)
{
    store_finalize(t->st);
    free(t->q);
    buf_release(&t->text);
    for (int i = 0; i < t->nhave; i++)
        free(t->have[i]);
    free(t->have);
}

/* The slot for `col`: rows usually set columns in the same order, so the pointer
 * comparison at `pos` hits and no string is compared. */
static struct tval *tb_slot(struct tbl *t, const char *col)
{
    int k = t->pos;

    if (!t->present)
        return NULL;
    if (k >= t->ncols || t->cols[k] != col) {
        for (k = 0; k < t->ncols; k++)
            if (t->cols[k] == col || strcmp(t->cols[k], col) == 0)
                break;
        if (k == t->ncols) {
            if (t->ready || t->ncols == TB_MAXCOLS) {
                if (!t->bad)
                    t->bad = col;
                return NULL;
            }
            t->cols[t->ncols++] = col;
        }
    }
    t->pos = k + 1;
    t->set[k] = 1;
    return &t->vals[k];
}

static void tb_int(struct tbl *t, const char *col, int64_t v)
{
    struct tval *x = tb_slot(t, col);

    if (x) {
        x->type = TV_INT;
        x->i = v;
    }
}

static void tb_null(struct tbl *t, const char *col)
{
    struct tval *x = tb_slot(t, col);

    if (x)
        x->type = TV_NULL;
}

/* A reference: 0 means none (NULL). */
static void tb_ref(struct tbl *t, const char *col, int64_t id)
{
    if (id)
        tb_int(t, col, id);
    else
        tb_null(t, col);
}

static void tb_text(struct tbl *t, const char *col, const char *v)
{
    struct tval *x = tb_slot(t, col);

    if (x) {
        x->type = v ? TV_TEXT : TV_NULL;
        x->s = v;
    }
}

static void tb_textf(struct tbl *t, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tb_textf(struct tbl *t, const char *col, const char *fmt, ...)
{
    struct tval *x = tb_slot(t, col);
    va_list ap;

    if (!x)
        return;
    va_start(ap, fmt);
    vsnprintf(x->sbuf, sizeof(x->sbuf), fmt, ap);
    va_end(ap);
    x->type = TV_TEXT;
    x->s = x->sbuf;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* A DATE column ('YYYY-MM-DD') from unix seconds. */
static void tb_date(struct tbl *t, const char *col, int64_t when)
{
    int y;
    unsigned m, d;
    int64_t days = when >= 0 ? when / DAY : -((-when + DAY - 1) / DAY);

    civil_from_days(days, &y, &m, &d);
    tb_textf(t, col, "%04d-%02u-%02u", y, m, d);
}

/* Starts a row with the next id; returns that id, or 0 when the table is absent. */
static int64_t tb_begin(struct tbl *t)
{
    if (!t->present)
        return 0;
    memset(t->set, 0, sizeof(t->set));
    t->pos = 0;
    tb_int(t, "id", t->next_id);
    return t->next_id;
}

/* Bulk load: building an index once after the inserts is several times cheaper than
 * maintaining it row by row (measured: 100k grants on the real schema, 13 s against
 * 120 s; even an index whose keys are all NULL costs more to maintain than to rebuild).
 * So the table's non-unique indexes are dropped before its first insert and re-created
 * from their stored SQL at the end, in the same transaction (a failure rolls the drop
 * back too). UNIQUE indexes stay so their constraints keep holding. */
struct dropping {
    struct seed *s;
    char **names;
    int n;
};

static int note_index(void *arg, const char *name, const char *sql)
{
    struct dropping *d = arg;
    struct seed *s = d->s;
    if (s->nsaved == s->savedcap) {
        s->savedcap = s->savedcap ? s->savedcap * 2 : 64;
        s->saved = xrealloc(s->saved, (size_t)s->savedcap * sizeof(*s->saved));
    }
    d->names = xrealloc(d->names, (size_t)(d->n + 1) * sizeof(*d->names));
    d->names[d->n++] = xstrdup(name);
    s->saved[s->nsaved++] = xstrdup(sql);
    return 0;
}

static int drop_indexes(struct seed *s, const struct tbl *t)
{
    struct dropping d = {s, NULL, 0};
    int ret = -1;

    if (store_table_indexes(s->db, t->name, note_index, &d) != 0) {
        seterr(s, "indexes: %s", store_errmsg(s->db));
        goto out;
    }
    for (int i = 0; i < d.n; i++) {
        struct sql q;
        sql_init(&q);
        sql_append(&q, "DROP INDEX ");
        sql_ident(&q, d.names[i]);
        int rc = store_exec(s->db, q.buf, NULL, 0);
        sql_release(&q);
        if (rc != STORE_OK) {
            seterr(s, "drop index %s: %s", d.names[i], store_errmsg(s->db));
            goto out;
        }
    }
    ret = 0;
out:
    for (int i = 0; i < d.n; i++)
        free(d.names[i]);
    free(d.names);
    return ret;
}

/* INSERT of `rows` rows over the present columns. */
static struct store_stmt *tb_stmt(struct seed *s, const struct tbl *t, int rows)
{
    struct buf sql;
    struct store_stmt *st = NULL;
    int n = 0;

    buf_init(&sql);
    buf_addf(&sql, "INSERT INTO \"%s\" (", t->name);
    for (int k = 0; k < t->ncols; k++)
        if (t->param[k])
            buf_addf(&sql, "%s\"%s\"", n++ ? "," : "", t->cols[k]);
    buf_adds(&sql, ") VALUES ");
    /* Each value's placeholder as its column's type wants it (sql_placeholder). */
    const struct class_def *cls = registry_class(t->name, strlen(t->name));
    char ph[TB_MAXCOLS][64];
    for (int k = 0, p = 0; k < t->ncols; k++) {
        if (!t->param[k])
            continue;
        const struct field *f = cls ? registry_field(cls, t->cols[k]) : NULL;
        sql_placeholder(ph[p++], sizeof ph[0], f ? registry_kind(f) : SQLK_INT, f ? f->scale : 0);
    }
    for (int r = 0; r < rows; r++) {
        buf_adds(&sql, r ? ",(" : "(");
        for (int k = 0; k < t->nparams; k++) {
            if (k)
                buf_addc(&sql, ',');
            buf_adds(&sql, ph[k]);
        }
        buf_addc(&sql, ')');
    }
    buf_addc(&sql, '\0');
    if (store_prepare(s->db, sql.s, STORE_NUL, 0, &st) != STORE_OK) {
        seterr(s, "%s: %s", t->name, store_errmsg(s->db));
        store_finalize(st);
        st = NULL;
    }
    buf_release(&sql);
    return st;
}

/* At the first row: fix the column list, drop the indexes, prepare the batch INSERT. */
static int tb_prepare(struct seed *s, struct tbl *t)
{
    int limit = store_max_params(s->db);

    t->ready = 1;
    for (int k = 0; k < t->ncols; k++)
        t->param[k] = tb_has(t, t->cols[k]) ? ++t->nparams : 0;
    t->batch = t->nparams && limit / t->nparams < TB_BATCH ? limit / t->nparams : TB_BATCH;
    if (t->batch < 1)
        t->batch = 1;
    t->q = xcalloc((size_t)t->batch * (size_t)(t->nparams ? t->nparams : 1), sizeof(*t->q));
    buf_init(&t->text);
    if (drop_indexes(s, t) < 0)
        return -1;
    t->st = tb_stmt(s, t, t->batch);
    return t->st ? 0 : -1;
}

/* Writes the queued rows. */
static int tb_flush(struct seed *s, struct tbl *t)
{
    struct store_stmt *st = t->st;
    int ret = -1, n = t->nq * t->nparams;

    if (!t->nq)
        return 0;
    if (t->nq != t->batch)
        st = tb_stmt(s, t, t->nq);
    if (!st)
        return -1;
    for (int p = 0; p < n; p++) {
        const struct qval *x = &t->q[p];

        if (x->type == TV_NULL)
            store_bind_null(st, p + 1);
        else if (x->type == TV_INT)
            store_bind_int(st, p + 1, x->i);
        else
            store_bind_text(st, p + 1, t->text.s + x->off, (int)x->len);
    }
    if (store_step(st) != STORE_DONE) {
        seterr(s, "insert into %s: %s", t->name, store_errmsg(s->db));
        goto out;
    }
    ret = 0;
out:
    store_reset(st);
    store_clear_bindings(st);
    if (st != t->st)
        store_finalize(st);
    t->nq = 0;
    t->text.len = 0;
    return ret;
}

/* Queues the row started by tb_begin. */
static int tb_insert(struct seed *s, struct tbl *t)
{
    struct qval *row;

    if (!t->present)
        return 0;
    if (t->bad) {
        seterr(s, "seed: column %s of %s was not set in the first row", t->bad, t->name);
        return -1;
    }
    if (!t->ready && tb_prepare(s, t) < 0)
        return -1;
    row = &t->q[(size_t)t->nq * (size_t)t->nparams];
    for (int k = 0; k < t->ncols; k++) {
        struct qval *x;
        const struct tval *v = &t->vals[k];

        if (!t->param[k])
            continue;
        x = &row[t->param[k] - 1];
        x->type = t->set[k] ? v->type : TV_NULL;
        x->i = v->i;
        if (x->type == TV_TEXT) {
            x->off = t->text.len;
            x->len = strlen(v->s);
            buf_add(&t->text, v->s, x->len);
        }
    }
    t->next_id++;
    t->rows++;
    if (++t->nq == t->batch)
        return tb_flush(s, t);
    return 0;
}

/* ---------------------------------------------------------------- randomness, dates */

static uint64_t rnd(struct seed *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(struct seed *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static int chance(struct seed *s, int pct)
{
    return (int)(rnd(s) % 100) < pct;
}

#define PICK(s, arr) ((arr)[rnd(s) % (sizeof(arr) / sizeof((arr)[0]))])
#define NELEM(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

struct weighted {
    const char *v;
    int w;
};

static const char *pick_weighted(struct seed *s, const struct weighted *w, int n)
{
    int total = 0, r;

    for (int i = 0; i < n; i++)
        total += w[i].w;
    r = (int)(rnd(s) % (uint64_t)total);
    for (int i = 0; i < n; i++) {
        if (r < w[i].w)
            return w[i].v;
        r -= w[i].w;
    }
    return w[n - 1].v;
}

/* Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, UTC). */
static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int year_of(int64_t t)
{
    int y;
    unsigned m, d;

    civil_from_days(t / DAY, &y, &m, &d);
    return y;
}

/* Midnight of the day `months` after t's day (the day clamped to the month's length). */
static int64_t add_months(int64_t t, int months)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y;
    unsigned m, d, last;
    int mi;

    civil_from_days(t / DAY, &y, &m, &d);
    mi = (int)m - 1 + months;
    y += mi / 12;
    m = (unsigned)(mi % 12) + 1;
    last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > last)
        d = last;
    return days_from_civil(y, m, d) * DAY;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* ---------------------------------------------------------------- progress */

static void progress(struct seed *s, const char *label, long long add)
{
    int pct, fill;
    char bar[26];

    s->prog_done += add;
    if (!s->progress || s->prog_total <= 0)
        return;
    pct = (int)(s->prog_done * 100 / s->prog_total);
    if (pct > 100)
        pct = 100;
    if (pct / 2 == s->prog_last / 2 && label == s->prog_label)
        return;
    s->prog_last = pct;
    s->prog_label = label;
    fill = pct / 4;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, ' ', (size_t)(25 - fill));
    bar[25] = '\0';
    fprintf(stderr, "\rseeding %-19s [%s] %3d%%", label, bar, pct);
    fflush(stderr);
}

/* ---------------------------------------------------------------- word lists */

static const char *const first_names[] = {
    "Maria",  "James",  "Aisha",     "Wei",    "José",  "Fatima", "Liam",    "Priya",
    "Chen",   "Olivia", "Kwame",     "Sofia",  "Noah",  "Amara",  "Hiroshi", "Elena",
    "Diego",  "Grace",  "Mohammed",  "Zoë",    "Lucas", "Nadia",  "Samuel",  "Renée",
    "Ahmed",  "Hannah", "Raj",       "Isabel", "Tomás", "Chloé",  "David",   "Leila",
    "Kenji",  "Ana",    "Oluwaseun", "Emma",   "Mateo", "Yara",   "Daniel",  "Ingrid",
    "Carlos", "Mei",    "Ethan",     "Abena",  "Søren", "Lucía",  "Marcus",  "Thandiwe",
};

static const char *const last_names[] = {
    "García",    "Smith",  "Okafor", "Nguyen",   "Müller",    "Patel",   "Johnson",  "Kim",
    "Hernández", "Brown",  "Mensah", "Kowalski", "Haddad",    "Tanaka",  "Silva",    "Williams",
    "Ivanova",   "Rossi",  "Chen",   "Dubois",   "Ochieng",   "Lopez",   "Nakamura", "Andersson",
    "Cohen",     "Singh",  "Martin", "Abubakar", "Fernández", "Taylor",  "Wang",     "Rahman",
    "Jensen",    "Moreau", "Davis",  "Núñez",    "Clark",     "Achebe",  "Sato",     "Walker",
    "Gómez",     "Lee",    "Moyo",   "Schmidt",  "Robinson",  "Bianchi", "Das",      "Okonkwo",
};

static const char *const org_places[] = {
    "Riverbend",   "Oakridge",     "Lakeside",   "Northgate",    "Cedar Valley", "Summit",
    "Harbor",      "Prairie",      "Bluewater",  "Silver Creek", "Maple Grove",  "Highland",
    "Eastside",    "Westbrook",    "Pinecrest",  "Sunrise",      "Golden Gate",  "Red Rock",
    "Stonebridge", "Willow Bend",  "Clearwater", "Iron Range",   "Meadowlark",   "Bayview",
    "Mesa Verde",  "Greenfield",   "Fox Hollow", "Lighthouse",   "Cypress",      "Juniper",
    "Canyon",      "Three Rivers", "Hillcrest",  "Evergreen",    "Seaside",      "Birchwood",
};

static const char *const org_focus[] = {
    "Community Health", "Youth Arts",        "Food Security",     "Climate Action",
    "Literacy",         "Housing",           "Water Access",      "Women's Economic",
    "Immigrant Legal",  "Rural Education",   "Digital Inclusion", "Mental Health",
    "Wildlife",         "Music Education",   "Family Services",   "Senior Care",
    "Workforce",        "Land Conservation", "Public Media",      "Refugee Support",
    "Early Learning",   "Clean Energy",      "Maternal Health",   "Disability Rights",
    "Watershed",        "Small Business",    "Civic Engagement",  "Cultural Heritage",
};

static const char *const org_types[] = {
    "Alliance",   "Foundation",  "Collaborative", "Network",     "Institute",
    "Center",     "Project",     "Coalition",     "Trust",       "Society",
    "Initiative", "Partnership", "Council",       "Association",
};

static const char *const streets[] = {
    "Main",   "Oak",   "Maple",    "Cedar",    "Elm",    "Washington", "Lake",
    "Hill",   "Park",  "Pine",     "River",    "Church", "Market",     "Mill",
    "Spring", "Union", "Franklin", "Highland", "Sunset", "Jefferson",  "College",
};

static const char *const street_types[] = {"Street", "Avenue", "Road", "Boulevard",
                                           "Lane",   "Drive",  "Way",  "Place"};

static const char *const contact_titles[] = {"Grants Manager", "Development Director",
                                             "Finance Director", "Program Director",
                                             "Operations Manager"};

static const char *const summary_verbs[] = {"To expand",  "To strengthen", "To launch",
                                            "To sustain", "To scale up",   "To pilot"};

static const char *const populations[] = {
    "low-income families",
    "rural communities",
    "young people aged 14 to 24",
    "refugee and immigrant families",
    "older adults",
    "Indigenous communities",
    "first-generation college students",
    "smallholder farmers",
    "women-led households",
    "people experiencing homelessness",
};

static const char *const partners[] = {"schools",      "clinics",           "libraries",
                                       "cooperatives", "faith communities", "local governments",
                                       "universities"};

static const char *const note_texts[] = {
    "Called the executive director to discuss the revised budget.",
    "Site visit completed; the team is well organized and on schedule.",
    "Requested an updated audit before the next payment.",
    "Board approved the recommendation at the quarterly meeting.",
    "Grantee asked for a no-cost extension of three months.",
    "Reviewed the interim report with the program lead; no concerns.",
    "Follow up on the signed grant agreement.",
    "Met the new finance director; introduced the reporting portal.",
};

/* ---------------------------------------------------------------- geography */

struct country_def {
    const char *name, *iso2, *iso3, *ison, *currency, *postal, *dial;
};

/* Postal formats: 9 is a digit, A a letter. */
static const struct country_def countries[] = {
    {"United States", "US", "USA", "840", "USD", "99999", "1"},
    {"Canada", "CA", "CAN", "124", "CAD", "A9A 9A9", "1"},
    {"Mexico", "MX", "MEX", "484", "MXN", "99999", "52"},
    {"United Kingdom", "GB", "GBR", "826", "GBP", "AA9 9AA", "44"},
    {"France", "FR", "FRA", "250", "EUR", "99999", "33"},
    {"Germany", "DE", "DEU", "276", "EUR", "99999", "49"},
    {"Kenya", "KE", "KEN", "404", "KES", "99999", "254"},
    {"India", "IN", "IND", "356", "INR", "999999", "91"},
    {"Brazil", "BR", "BRA", "076", "BRL", "99999-999", "55"},
    {"South Africa", "ZA", "ZAF", "710", "ZAR", "9999", "27"},
    {"Australia", "AU", "AUS", "036", "AUD", "9999", "61"},
    {"Japan", "JP", "JPN", "392", "JPY", "999-9999", "81"},
};

struct state_def {
    int country;
    const char *name, *abbr;
    const char *cities; /* '|'-separated */
};

/* The US entries come first (cities[] keeps that order: the first nus are American). */
static const struct state_def states[] = {
    {0, "Alabama", "AL", "Birmingham|Montgomery"},
    {0, "Alaska", "AK", "Anchorage"},
    {0, "Arizona", "AZ", "Phoenix|Tucson"},
    {0, "Arkansas", "AR", "Little Rock"},
    {0, "California", "CA", "Los Angeles|San Francisco|Oakland|Fresno"},
    {0, "Colorado", "CO", "Denver|Boulder"},
    {0, "Connecticut", "CT", "Hartford"},
    {0, "Delaware", "DE", "Wilmington"},
    {0, "District of Columbia", "DC", "Washington"},
    {0, "Florida", "FL", "Miami|Tampa"},
    {0, "Georgia", "GA", "Atlanta|Savannah"},
    {0, "Hawaii", "HI", "Honolulu"},
    {0, "Idaho", "ID", "Boise"},
    {0, "Illinois", "IL", "Chicago|Springfield"},
    {0, "Indiana", "IN", "Indianapolis"},
    {0, "Iowa", "IA", "Des Moines"},
    {0, "Kansas", "KS", "Wichita"},
    {0, "Kentucky", "KY", "Louisville"},
    {0, "Louisiana", "LA", "New Orleans|Baton Rouge"},
    {0, "Maine", "ME", "Portland"},
    {0, "Maryland", "MD", "Baltimore"},
    {0, "Massachusetts", "MA", "Boston|Worcester"},
    {0, "Michigan", "MI", "Detroit|Grand Rapids"},
    {0, "Minnesota", "MN", "Minneapolis|Saint Paul"},
    {0, "Mississippi", "MS", "Jackson"},
    {0, "Missouri", "MO", "Kansas City|St. Louis"},
    {0, "Montana", "MT", "Billings"},
    {0, "Nebraska", "NE", "Omaha"},
    {0, "Nevada", "NV", "Las Vegas|Reno"},
    {0, "New Hampshire", "NH", "Manchester"},
    {0, "New Jersey", "NJ", "Newark"},
    {0, "New Mexico", "NM", "Albuquerque|Santa Fe"},
    {0, "New York", "NY", "New York|Buffalo|Rochester"},
    {0, "North Carolina", "NC", "Charlotte|Durham"},
    {0, "North Dakota", "ND", "Fargo"},
    {0, "Ohio", "OH", "Columbus|Cleveland"},
    {0, "Oklahoma", "OK", "Oklahoma City|Tulsa"},
    {0, "Oregon", "OR", "Portland|Eugene"},
    {0, "Pennsylvania", "PA", "Philadelphia|Pittsburgh"},
    {0, "Rhode Island", "RI", "Providence"},
    {0, "South Carolina", "SC", "Charleston"},
    {0, "South Dakota", "SD", "Sioux Falls"},
    {0, "Tennessee", "TN", "Nashville|Memphis"},
    {0, "Texas", "TX", "Houston|Austin|San Antonio|El Paso"},
    {0, "Utah", "UT", "Salt Lake City"},
    {0, "Vermont", "VT", "Burlington"},
    {0, "Virginia", "VA", "Richmond|Norfolk"},
    {0, "Washington", "WA", "Seattle|Spokane"},
    {0, "West Virginia", "WV", "Charleston"},
    {0, "Wisconsin", "WI", "Milwaukee|Madison"},
    {0, "Wyoming", "WY", "Cheyenne"},
    {1, "Ontario", "ON", "Toronto|Ottawa"},
    {1, "Quebec", "QC", "Montréal|Québec City"},
    {1, "British Columbia", "BC", "Vancouver|Victoria"},
    {1, "Alberta", "AB", "Calgary|Edmonton"},
    {2, "Ciudad de México", "CMX", "Mexico City"},
    {2, "Jalisco", "JAL", "Guadalajara"},
    {2, "Nuevo León", "NLE", "Monterrey"},
    {3, "England", "ENG", "London|Manchester|Bristol"},
    {3, "Scotland", "SCT", "Edinburgh|Glasgow"},
    {3, "Wales", "WLS", "Cardiff"},
    {4, "Île-de-France", "IDF", "Paris"},
    {4, "Auvergne-Rhône-Alpes", "ARA", "Lyon"},
    {4, "Provence-Alpes-Côte d'Azur", "PAC", "Marseille|Nice"},
    {5, "Berlin", "BE", "Berlin"},
    {5, "Bavaria", "BY", "Munich|Nuremberg"},
    {5, "Hamburg", "HH", "Hamburg"},
    {6, "Nairobi", "NBO", "Nairobi"},
    {6, "Mombasa", "MSA", "Mombasa"},
    {6, "Kisumu", "KSM", "Kisumu"},
    {7, "Maharashtra", "MH", "Mumbai|Pune"},
    {7, "Karnataka", "KA", "Bengaluru|Mysuru"},
    {7, "Delhi", "DL", "New Delhi"},
    {8, "São Paulo", "SP", "São Paulo|Campinas"},
    {8, "Rio de Janeiro", "RJ", "Rio de Janeiro"},
    {8, "Bahia", "BA", "Salvador"},
    {9, "Gauteng", "GP", "Johannesburg|Pretoria"},
    {9, "Western Cape", "WC", "Cape Town"},
    {9, "KwaZulu-Natal", "KZN", "Durban"},
    {10, "New South Wales", "NSW", "Sydney|Newcastle"},
    {10, "Victoria", "VIC", "Melbourne"},
    {10, "Queensland", "QLD", "Brisbane"},
    {11, "Tokyo", "13", "Tokyo"},
    {11, "Osaka", "27", "Osaka"},
    {11, "Kyoto", "26", "Kyoto"},
};

/* ---------------------------------------------------------------- programs, funds */

struct program_def {
    const char *name, *desc;
    const char *subs[3];
    const char *inits[3];
    const char *phrases[4]; /* summary subjects */
};

static const struct program_def programs[] = {
    {"Community Health",
     "Grants that bring primary, maternal and mental health care closer to where people live.",
     {"Primary Care Access", "Maternal & Child Health", "Mental Health"},
     {"Rural Clinic Expansion", "Healthy Mothers Healthy Babies", "Youth Mental Health First Aid"},
     {"primary care access", "community health worker training", "maternal health services",
      "mental health counseling"}},
    {"Education Equity",
     "Support for learners from early childhood through college, and for their teachers.",
     {"Early Childhood Learning", "College Access", "Teacher Development"},
     {"Ready to Read", "First-Generation Scholars", "Great Teachers Fellowship"},
     {"early literacy programs", "college advising", "teacher coaching", "after-school tutoring"}},
    {"Environment & Climate",
     "Climate mitigation and adaptation, clean water and protected lands.",
     {"Clean Energy Transition", "Water Stewardship", "Conservation Lands"},
     {"Solar for Schools", "Watershed Restoration", "Thirty by Thirty Land Protection"},
     {"community solar", "watershed restoration", "habitat conservation",
      "climate adaptation planning"}},
    {"Arts & Culture",
     "Artists, cultural organizations and the traditions that hold communities together.",
     {"Community Arts", "Cultural Heritage", "Artist Fellowships"},
     {"Murals in Motion", "Living Traditions", "Emerging Artists"},
     {"community arts workshops", "oral history archives", "artist residencies",
      "youth music ensembles"}},
    {"Economic Opportunity",
     "Good jobs, small businesses and affordable homes.",
     {"Workforce Training", "Small Business Development", "Affordable Housing"},
     {"Green Jobs Pathways", "Main Street Microloans", "Homes for All"},
     {"apprenticeship programs", "small business lending", "affordable housing",
      "financial coaching"}},
    {"Global Development",
     "Partners abroad working on food security, livelihoods and emergency response.",
     {"Food Security", "Women's Economic Empowerment", "Humanitarian Response"},
     {"Smallholder Farmer Resilience", "Women Entrepreneurs Fund", "Rapid Response Grants"},
     {"smallholder agriculture", "savings groups", "emergency shelter", "clean water points"}},
};

static const char *const fund_names[] = {"General Operating Fund", "Climate Resilience Fund",
                                         "Education Endowment",
                                         "Hartley Family Donor Advised Fund"};

/* grant_request workflow states (fluxx-reference §7.5 plus `pending`). */
static const char *const gr_states[] = {"new",
                                        "pending",
                                        "funding_recommended",
                                        "pending_grant_team_approval",
                                        "pending_po_approval",
                                        "pending_president_approval",
                                        "pending_grant_promotion",
                                        "sent_back_to_pa",
                                        "sent_back_to_po",
                                        "rejected",
                                        "granted",
                                        "closed",
                                        "canceled"};

/* ---------------------------------------------------------------- helpers */

/* ASCII, lower-case form of a UTF-8 name for logins (Latin-1 letters transliterated). */
static void ascii_lower(const char *in, char *out, size_t outlen)
{
    static const char latin1[] = "aaaaaaaceeeeiiiidnooooo_ouuuuyts"
                                 "aaaaaaaceeeeiiiidnooooo_ouuuuyty";
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)in;

    while (*p && n + 1 < outlen) {
        char c = 0;

        if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
            c = latin1[p[1] - 0x80];
            p += 2;
        } else if (*p < 0x80) {
            c = (char)*p++;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                c = 0;
        } else {
            p++;
        }
        if (c && c != '_')
            out[n++] = c;
    }
    out[n] = '\0';
}

/* Formats by pattern: 9 a digit, A an upper-case letter, anything else itself. */
static void pattern_fill(struct seed *s, const char *pat, char *out, size_t outlen)
{
    size_t n = 0;

    for (; *pat && n + 1 < outlen; pat++) {
        if (*pat == '9')
            out[n++] = (char)('0' + rnd(s) % 10);
        else if (*pat == 'A')
            out[n++] = (char)('A' + rnd(s) % 26);
        else
            out[n++] = *pat;
    }
    out[n] = '\0';
}

static void phone_fill(struct seed *s, int country, char *out, size_t outlen)
{
    if (countries[country].dial[0] == '1' && countries[country].dial[1] == '\0')
        snprintf(out, outlen, "+1 %03d-555-%04d", (int)rnd_range(s, 201, 989),
                 (int)rnd_range(s, 100, 199));
    else
        snprintf(out, outlen, "+%s %03d %03d %03d", countries[country].dial,
                 (int)rnd_range(s, 100, 999), (int)rnd_range(s, 0, 999), (int)rnd_range(s, 0, 999));
}

/* created_at/updated_at and the acting user, common to every row. */
static void tb_stamp(struct seed *s, struct tbl *t, int64_t created, int64_t updated)
{
    tb_int(t, "created_at", created);
    tb_int(t, "updated_at", updated);
    tb_ref(t, "created_by_id", s->creator);
    tb_ref(t, "updated_by_id", s->creator);
}

/* The workflow_event of a seeded record, as the API writes one for a create: no old
 * state, change_type "state", and the record's id also in its `<class>_id` column (which
 * backs `<class>.workflow_events`). Only users, organizations and grant requests get one:
 * payments and reports would add 2.2 events per grant to the largest table (12 indexes
 * and a full-text trigger in the schema) and double the seed's time at a million. */
static int add_event(struct seed *s, int ti, int64_t id, const char *state, int64_t when)
{
    static const struct {
        int t;
        const char *col;
    } owners[] = {{T_USER, "user_id"}, {T_ORG, "organization_id"}, {T_GRANT, "grant_request_id"}};
    struct tbl *e = &s->t[T_EVENT];

    if (!id || !tb_begin(e))
        return 0;
    tb_text(e, "workflowable_type", s->t[ti].camel);
    tb_int(e, "workflowable_id", id);
    tb_null(e, "old_state");
    tb_text(e, "new_state", state);
    tb_text(e, "change_type", "state");
    for (int k = 0; k < NELEM(owners); k++)
        tb_ref(e, owners[k].col, owners[k].t == ti ? id : 0);
    tb_stamp(s, e, when, when);
    return tb_insert(s, e);
}

static int add_note(struct seed *s, int ti, int64_t id, int64_t when, int64_t author)
{
    struct tbl *t = &s->t[T_NOTE];

    if (!id || !tb_begin(t))
        return 0;
    tb_text(t, "notable_type", s->t[ti].camel);
    tb_int(t, "notable_id", id);
    tb_text(t, "note", PICK(s, note_texts));
    tb_int(t, "private", chance(s, 20));
    tb_int(t, "created_at", when);
    tb_int(t, "updated_at", when);
    tb_ref(t, "created_by_id", author);
    tb_ref(t, "updated_by_id", author);
    return tb_insert(s, t);
}

/* ---------------------------------------------------------------- sections */

/* A person row (first user: no creator yet). Returns the id through *id. */
/* A person: staff when org_id is 0, else a grantee contact whose affiliation row will
 * have id uo_id. */
static int add_user(struct seed *s, int64_t org_id, int64_t uo_id, const struct city *cy,
                    int64_t when, int64_t *id, char *email, size_t emaillen)
{
    struct tbl *t = &s->t[T_USER];
    const char *first = PICK(s, first_names), *last = PICK(s, last_names);
    char a[48], b[48], login[112], phone[40];
    int64_t uid = tb_begin(t);
    int grantee = org_id != 0;

    *id = uid;
    ascii_lower(first, a, sizeof(a));
    ascii_lower(last, b, sizeof(b));
    snprintf(login, sizeof(login), "%s.%s%lld", a, b, (long long)uid);
    snprintf(email, emaillen, "%s@%s.example.org", login, grantee ? "grantee" : "foundation");
    phone_fill(s, cy ? cy->country : 0, phone, sizeof(phone));
    tb_text(t, "first_name", first);
    tb_text(t, "last_name", last);
    tb_text(t, "login", login);
    tb_text(t, "email", email);
    tb_text(t, "role", grantee ? "grantee" : "employee");
    tb_text(t, "state", "active");
    tb_int(t, "active", 1);
    tb_text(t, "work_phone", phone);
    tb_ref(t, "organization_id", org_id);
    tb_ref(t, "primary_organization_id", org_id);
    tb_ref(t, "primary_user_organization_id", uo_id);
    tb_ref(t, "geo_country_id", cy ? cy->country_id : 0);
    tb_ref(t, "geo_state_id", cy ? cy->state_id : 0);
    if (grantee)
        tb_null(t, "employee_hired_at");
    else
        tb_date(t, "employee_hired_at", when - rnd_range(s, 30, 3000) * DAY);
    tb_stamp(s, t, when, when);
    if (tb_insert(s, t) < 0)
        return -1;
    return add_event(s, T_USER, uid, "active", when);
}

static int seed_staff(struct seed *s, long n)
{
    int want = (int)(12 + n / 100 < 200 ? 12 + n / 100 : 200);
    char email[160];

    s->staff = xcalloc((size_t)want, sizeof(*s->staff));
    for (int k = 0; k < want; k++) {
        int64_t id;

        /* staff 0 administers grants; the others are assigned to programs in turn */
        s->nstaff = k + 1;
        if (add_user(s, 0, 0, NULL, s->base_time, &id, email, sizeof(email)) < 0)
            return -1;
        s->staff[k] = id;
        if (k == 0)
            s->creator = id;
    }
    return 0;
}

static int seed_geo(struct seed *s)
{
    struct tbl *tc = &s->t[T_COUNTRY], *ts = &s->t[T_STATE], *ty = &s->t[T_CITY];
    int64_t cid[NELEM(countries)];
    int cap = 0;

    for (int c = 0; c < NELEM(countries); c++) {
        const struct country_def *d = &countries[c];

        cid[c] = tb_begin(tc);
        tb_text(tc, "name", d->name);
        tb_text(tc, "iso2", d->iso2);
        tb_text(tc, "iso3", d->iso3);
        tb_text(tc, "ison", d->ison);
        tb_text(tc, "currency_code", d->currency);
        tb_int(tc, "retired", 0);
        tb_stamp(s, tc, s->base_time, s->base_time);
        if (tb_insert(s, tc) < 0)
            return -1;
    }
    for (int i = 0; i < NELEM(states); i++) {
        const struct state_def *d = &states[i];
        const char *p = d->cities;
        int64_t sid = tb_begin(ts);

        tb_text(ts, "name", d->name);
        tb_text(ts, "abbreviation", d->abbr);
        tb_ref(ts, "geo_country_id", cid[d->country]);
        tb_stamp(s, ts, s->base_time, s->base_time);
        if (tb_insert(s, ts) < 0)
            return -1;
        while (*p) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            struct city *cy;

            if (s->ncities == cap) {
                cap = cap ? cap * 2 : 128;
                s->cities = xrealloc(s->cities, (size_t)cap * sizeof(*s->cities));
            }
            cy = &s->cities[s->ncities++];
            cy->name = xstrndup(p, len);
            cy->state_id = sid;
            cy->country_id = cid[d->country];
            cy->country = d->country;
            if (d->country == 0)
                s->nus = s->ncities;
            cy->id = tb_begin(ty);
            tb_text(ty, "name", cy->name);
            tb_ref(ty, "geo_state_id", sid);
            tb_ref(ty, "geo_country_id", cid[d->country]);
            tb_stamp(s, ty, s->base_time, s->base_time);
            if (tb_insert(s, ty) < 0)
                return -1;
            p += len;
            if (*p == '|')
                p++;
        }
    }
    return 0;
}

static int seed_programs(struct seed *s)
{
    struct tbl *tp = &s->t[T_PROGRAM], *tsp = &s->t[T_SUB_PROGRAM], *ti = &s->t[T_INITIATIVE];

    s->nprog = NELEM(programs);
    for (int p = 0; p < s->nprog; p++) {
        const struct program_def *d = &programs[p];

        s->prog_id[p] = tb_begin(tp);
        tb_text(tp, "name", d->name);
        tb_text(tp, "description", d->desc);
        tb_int(tp, "retired", 0);
        tb_stamp(s, tp, s->base_time, s->base_time);
        if (tb_insert(s, tp) < 0)
            return -1;
        for (int k = 0; k < 3; k++) {
            s->sub_id[p][k] = tb_begin(tsp);
            tb_text(tsp, "name", d->subs[k]);
            tb_textf(tsp, "description", "%s within the %s program.", d->subs[k], d->name);
            tb_ref(tsp, "program_id", s->prog_id[p]);
            tb_int(tsp, "retired", 0);
            tb_stamp(s, tsp, s->base_time, s->base_time);
            if (tb_insert(s, tsp) < 0)
                return -1;
        }
    }
    for (int p = 0; p < s->nprog; p++) {
        for (int k = 0; k < 3; k++) {
            s->init_id[p][k] = tb_begin(ti);
            tb_text(ti, "name", programs[p].inits[k]);
            tb_textf(ti, "description", "An initiative of %s.", programs[p].subs[k]);
            tb_ref(ti, "sub_program_id", s->sub_id[p][k]);
            tb_ref(ti, "program_id", s->prog_id[p]);
            tb_int(ti, "retired", 0);
            tb_stamp(s, ti, s->base_time, s->base_time);
            if (tb_insert(s, ti) < 0)
                return -1;
        }
    }
    return 0;
}

static int seed_funds(struct seed *s, long n)
{
    struct tbl *tf = &s->t[T_FUND], *ts = &s->t[T_FUNDING_SOURCE];
    int64_t scale = n < 100 ? 100 : n;
    int y0 = year_of(s->base_time), y1 = year_of(s->now);

    for (int i = 0; i < NELEM(fund_names); i++) {
        tb_begin(tf);
        tb_text(tf, "name", fund_names[i]);
        tb_int(tf, "balance", (scale * rnd_range(s, 20000, 90000)) * DEC);
        tb_int(tf, "opened_at", s->base_time);
        tb_int(tf, "can_be_over_allocated", 0);
        tb_stamp(s, tf, s->base_time, s->base_time);
        if (tb_insert(s, tf) < 0)
            return -1;
    }
    for (int y = y0; y <= y1; y++) {
        int64_t start = days_from_civil(y, 1, 1) * DAY, end = days_from_civil(y, 12, 31) * DAY;
        int64_t amount = scale * 60000 / 6 * DEC;

        tb_begin(ts);
        tb_textf(ts, "name", "FY%d Grantmaking Budget", y);
        tb_int(ts, "amount", amount);
        tb_int(ts, "amount_budgeted", amount);
        tb_int(ts, "start_at", start);
        tb_int(ts, "end_at", end);
        tb_int(ts, "retired", y < y1 - 1);
        tb_stamp(s, ts, min64(start, s->now), min64(start, s->now));
        if (tb_insert(s, ts) < 0)
            return -1;
    }
    return 0;
}

/* Organization name, acronym and web slug from word lists. */
static void org_name(struct seed *s, const struct city *cy, char *name, size_t namelen, char *acr,
                     size_t acrlen)
{
    const char *focus = PICK(s, org_focus), *type = PICK(s, org_types);
    size_t n = 0;
    int start = 1;

    if (chance(s, 20))
        snprintf(name, namelen, "%s %s of %s", focus, type, cy->name);
    else
        snprintf(name, namelen, "%s %s %s", PICK(s, org_places), focus, type);
    for (const char *p = name; *p && n + 1 < acrlen; p++) {
        if (start && *p >= 'A' && *p <= 'Z')
            acr[n++] = *p;
        start = *p == ' ';
    }
    acr[n] = '\0';
}

/* The id the next user_organization row will get (0 without that table). */
static int64_t uo_next(const struct seed *s)
{
    return s->t[T_USER_ORG].present ? s->t[T_USER_ORG].next_id : 0;
}

static int seed_orgs(struct seed *s, long n)
{
    struct tbl *to = &s->t[T_ORG], *tu = &s->t[T_USER_ORG];
    static const struct weighted org_states[] = {{"approved", 85}, {"new", 10}, {"rejected", 5}};

    s->norgs = 3 + n / 4;
    s->orgs = xcalloc((size_t)s->norgs, sizeof(*s->orgs));
    for (long i = 0; i < s->norgs; i++) {
        const struct city *cy =
            &s->cities[chance(s, 75) ? rnd(s) % (uint64_t)s->nus
                                     : (uint64_t)s->nus + rnd(s) % (uint64_t)(s->ncities - s->nus)];
        const struct country_def *cd = &countries[cy->country];
        char name[160], acr[12], slug[40], postal[16], phone[40], street[80];
        int64_t when = s->base_time + rnd_range(s, 0, 200) * DAY, id = tb_begin(to);
        int contacts = 1 + chance(s, 50);
        const char *state = pick_weighted(s, org_states, NELEM(org_states));

        /* documentation samples need approved organizations, and one new one */
        if (i < 3)
            state = "approved";
        else if (i == s->norgs - 1)
            state = "new";
        s->orgs[i].id = id;
        s->orgs[i].state = state;
        org_name(s, cy, name, sizeof(name), acr, sizeof(acr));
        ascii_lower(acr, slug, sizeof(slug));
        pattern_fill(s, cd->postal, postal, sizeof(postal));
        phone_fill(s, cy->country, phone, sizeof(phone));
        snprintf(street, sizeof(street), "%d %s %s", (int)rnd_range(s, 1, 9899), PICK(s, streets),
                 PICK(s, street_types));
        tb_text(to, "name", name);
        tb_text(to, "acronym", acr);
        tb_text(to, "street_address", street);
        if (chance(s, 15))
            tb_textf(to, "street_address2", "Suite %d", (int)rnd_range(s, 100, 900));
        else
            tb_null(to, "street_address2");
        tb_text(to, "city", cy->name);
        tb_text(to, "postal_code", postal);
        tb_ref(to, "geo_state_id", cy->state_id);
        tb_ref(to, "geo_country_id", cy->country_id);
        tb_text(to, "phone", phone);
        tb_textf(to, "url", "https://www.%s%ld.example.org", slug, i + 1);
        tb_textf(to, "email", "info@%s%ld.example.org", slug, i + 1);
        if (cy->country == 0)
            tb_textf(to, "tax_id", "%02d-%07d", (int)rnd_range(s, 10, 99),
                     (int)rnd_range(s, 0, 9999999));
        else
            tb_null(to, "tax_id");
        tb_text(to, "state", state);
        /* ids are explicit, so the first contact's ids are known before its rows exist */
        tb_ref(to, "primary_user_id", s->t[T_USER].next_id);
        tb_ref(to, "primary_user_organization_id", uo_next(s));
        tb_stamp(s, to, when, when);
        if (tb_insert(s, to) < 0 || add_event(s, T_ORG, id, state, when) < 0)
            return -1;
        for (int c = 0; c < contacts; c++) {
            char email[160];
            int64_t uid;

            if (add_user(s, id, uo_next(s), cy, when, &uid, email, sizeof(email)) < 0)
                return -1;
            if (c == 0)
                s->orgs[i].contact = uid;
            tb_begin(tu);
            tb_ref(tu, "user_id", uid);
            tb_ref(tu, "organization_id", id);
            tb_text(tu, "title", c == 0 ? "Executive Director" : PICK(s, contact_titles));
            tb_text(tu, "email", email);
            tb_text(tu, "phone", phone);
            tb_date(tu, "start_at", when);
            tb_int(tu, "archived", 0);
            tb_stamp(s, tu, when, when);
            if (tb_insert(s, tu) < 0)
                return -1;
        }
        if ((i % 40 == 0 || i < 2) && add_note(s, T_ORG, id, when + DAY, s->creator) < 0)
            return -1;
        progress(s, "organization", 1);
    }
    return 0;
}

/* State of grant i (0 = oldest) of n: the last ones are guaranteed `new` and `pending`,
 * every state appears at least once, the rest follows the request's age. */
static const char *grant_state(struct seed *s, long i, long n, int64_t received, int64_t end)
{
    static const char *const settled[] = {"closed", "rejected", "canceled", "granted"};
    static const struct weighted young[] = {
        {"new", 20},
        {"pending", 20},
        {"funding_recommended", 12},
        {"pending_grant_team_approval", 8},
        {"pending_po_approval", 8},
        {"pending_president_approval", 6},
        {"pending_grant_promotion", 6},
        {"sent_back_to_pa", 5},
        {"sent_back_to_po", 5},
        {"rejected", 6},
        {"canceled", 4},
    };
    int64_t age = (s->now - received) / DAY;
    int r;

    if (n < 50)
        return gr_states[(n - 1 - i) % NELEM(gr_states)];
    if (n - 1 - i < 9) /* the nine most recent: every in-progress state */
        return gr_states[n - 1 - i];
    for (int k = 0; k < 4; k++) /* closed, rejected, canceled, granted at 1/5 .. 4/5 */
        if (i == (k + 1) * n / 5)
            return settled[k];
    if (age < 120)
        return pick_weighted(s, young, NELEM(young));
    r = (int)(rnd(s) % 100);
    if (age < 365 && r < 4)
        return "pending";
    if (r < 18)
        return "rejected";
    if (r < 23)
        return "canceled";
    if (end < s->now && chance(s, 85))
        return "closed";
    return "granted";
}

static int64_t amount_requested(struct seed *s)
{
    int r = (int)(rnd(s) % 100);
    int64_t dollars;

    if (r < 50)
        dollars = rnd_range(s, 10000, 50000);
    else if (r < 85)
        dollars = rnd_range(s, 50000, 250000);
    else
        dollars = rnd_range(s, 250000, 1000000);
    if (chance(s, 75))
        return (dollars / 500 * 500) * DEC;
    return dollars * DEC + rnd_range(s, 1, 99) * 100;
}

struct grant {
    int64_t id, received, begins, end, closed, updated, recommended, payee, lead;
    int64_t sub_program, initiative;
    int months;
    const char *state;
};

static int seed_payments(struct seed *s, const struct grant *g)
{
    struct tbl *t = &s->t[T_TXN];
    int64_t half = g->recommended / 2 / 100 * 100;
    static const struct weighted types[] = {{"Check", 30}, {"Wire", 30}, {"ACH", 40}};

    for (int k = 0; k < 2; k++) {
        int64_t due = k == 0 ? g->begins : add_months(g->begins, g->months / 2);
        int64_t amount = k == 0 ? half : g->recommended - half, paid_at = 0;
        int64_t created = min64(max64(g->received, g->begins - 30 * DAY), s->now), id;
        const char *state;

        if (!strcmp(g->state, "closed") || (due <= s->now - 7 * DAY && chance(s, 90))) {
            state = "paid";
            paid_at = min64(due + rnd_range(s, 0, 10) * DAY + rnd_range(s, 14, 22) * 3600, s->now);
        } else if (due <= s->now + 60 * DAY) {
            state = "due";
        } else {
            state = chance(s, 10) ? "new" : "tentatively_due";
        }
        id = tb_begin(t);
        tb_int(t, "request_id", g->id);
        tb_int(t, "amount_due", amount);
        tb_int(t, "due_at", due);
        if (paid_at) {
            tb_int(t, "amount_paid", amount);
            tb_int(t, "paid_at", paid_at);
            tb_textf(t, "payment_confirmation_number", "PC-%08lld", (long long)id);
        } else {
            tb_null(t, "amount_paid");
            tb_null(t, "paid_at");
            tb_null(t, "payment_confirmation_number");
        }
        tb_text(t, "payment_type", pick_weighted(s, types, NELEM(types)));
        tb_ref(t, "organization_payee_id", g->payee);
        tb_ref(t, "program_lead_id", g->lead);
        tb_text(t, "state", state);
        tb_stamp(s, t, created, paid_at ? paid_at : created);
        if (tb_insert(s, t) < 0)
            return -1;
    }
    return 0;
}

static int seed_report(struct seed *s, const struct grant *g)
{
    static const struct weighted review[] = {
        {"report_received", 15},
        {"pending_lead_approval", 15},
        {"pending_grant_team_approval", 10},
        {"pending_finance_approval", 10},
        {"approved", 35},
        {"sent_back_to_pa", 5},
        {"sent_back_to_lead", 5},
        {"sent_back_to_grant_team", 5},
    };
    struct tbl *t = &s->t[T_REPORT];
    int final = g->end + 30 * DAY <= s->now || !strcmp(g->state, "closed");
    int64_t due = final ? g->end + 30 * DAY : add_months(g->begins, g->months / 2);
    int64_t created = min64(g->begins, s->now), approved = 0;
    const char *state;

    if (!strcmp(g->state, "closed"))
        state = "approved";
    else if (due > s->now)
        state = "new";
    else
        state = pick_weighted(s, review, NELEM(review));
    if (!strcmp(state, "approved"))
        approved = min64(due + rnd_range(s, 0, 10) * DAY, s->now);
    tb_begin(t);
    tb_int(t, "request_id", g->id);
    tb_text(t, "report_type", final ? "FinalNarrative" : "InterimNarrative");
    tb_text(t, "report", final ? "Final narrative report" : "Interim narrative report");
    tb_int(t, "due_at", due);
    tb_ref(t, "approved_at", approved);
    tb_ref(t, "approved_by_user_id", approved ? g->lead : 0);
    tb_ref(t, "sub_program_id", g->sub_program);
    tb_ref(t, "initiative_id", g->initiative);
    tb_text(t, "state", state);
    tb_stamp(s, t, created, approved ? approved : created);
    return tb_insert(s, t);
}

/* A staff member of program p (staff k > 0 serves program (k - 1) % nprog). */
static int64_t program_lead(struct seed *s, int p)
{
    int per = (s->nstaff - 1 - p + s->nprog - 1) / s->nprog;

    if (per <= 0)
        return s->staff[0];
    return s->staff[1 + p + (int)(rnd(s) % (uint64_t)per) * s->nprog];
}

static struct org *pick_org(struct seed *s)
{
    struct org *o = &s->orgs[rnd(s) % (uint64_t)s->norgs];

    for (int tries = 0; tries < 3 && strcmp(o->state, "approved") != 0; tries++)
        o = &s->orgs[rnd(s) % (uint64_t)s->norgs];
    return o;
}

static int seed_grants(struct seed *s, long n)
{
    static const int durations[] = {6, 12, 12, 12, 18, 24, 24, 36};
    static const int pct_rec[] = {100, 100, 100, 90, 80, 75, 50};
    struct tbl *t = &s->t[T_GRANT];
    int64_t start = s->now - 6 * 365 * (int64_t)DAY, span = s->now - start - DAY;
    int year = 0;
    long seq = 0;
    char summary[600];

    for (long i = 0; i < n; i++) {
        struct grant g;
        struct org *po = pick_org(s), *fo = chance(s, 8) ? pick_org(s) : NULL;
        int p = (int)(rnd(s) % (uint64_t)s->nprog), sp = (int)(rnd(s) % 3);
        int64_t requested = amount_requested(s), recommended = 0;
        int granted, has_rec;
        const char *phrase = programs[p].phrases[rnd(s) % 4];
        const struct city *cy = &s->cities[rnd(s) % (uint64_t)s->ncities];
        int len;

        memset(&g, 0, sizeof(g));
        /* chronological: ids grow with request_received_at */
        g.received = start + (int64_t)(((double)i + (double)(rnd(s) >> 11) * 0x1.0p-53) *
                                       (double)span / (double)n);
        g.received = g.received / DAY * DAY + rnd_range(s, 13 * 3600, 22 * 3600);
        g.begins = (g.received / DAY + rnd_range(s, 30, 120)) * DAY;
        g.months = PICK(s, durations);
        g.end = add_months(g.begins, g.months);
        g.state = grant_state(s, i, n, g.received, g.end);
        g.lead = program_lead(s, p);
        g.sub_program = s->sub_id[p][sp];
        g.initiative = chance(s, 60) ? s->init_id[p][sp] : 0;
        g.payee = fo ? fo->id : po->id;
        granted = !strcmp(g.state, "granted") || !strcmp(g.state, "closed");
        has_rec = strcmp(g.state, "new") && strcmp(g.state, "pending") &&
                  strcmp(g.state, "rejected") && (strcmp(g.state, "canceled") || chance(s, 50));
        if (has_rec) {
            int pct = PICK(s, pct_rec);

            if (requested % (100 * DEC))
                recommended = requested; /* amounts with cents are granted as asked */
            else
                recommended = requested * pct / 100 / (100 * DEC) * (100 * DEC);
        }
        g.recommended = recommended;
        g.updated = g.received;
        if (!strcmp(g.state, "closed")) {
            g.closed = min64(g.end + rnd_range(s, 45, 120) * DAY, s->now);
            g.closed = max64(g.closed, g.begins);
            g.updated = g.closed;
        } else if (granted) {
            g.updated = min64(g.begins, s->now);
        } else if (strcmp(g.state, "new")) {
            g.updated = min64(g.received + rnd_range(s, 1, 60) * DAY, s->now);
        }
        g.updated = max64(g.updated, g.received);
        if (year_of(g.received) != year) {
            year = year_of(g.received);
            seq = 0;
        }
        seq++;
        len = snprintf(summary, sizeof(summary), "%s %s for %s in %s.", PICK(s, summary_verbs),
                       phrase, PICK(s, populations), cy->name);
        if (chance(s, 70) && len > 0 && (size_t)len < sizeof(summary))
            len += snprintf(summary + len, sizeof(summary) - (size_t)len,
                            " The project will run for %d months and reach an estimated %d "
                            "people.",
                            g.months, (int)rnd_range(s, 2, 400) * 25);
        if (chance(s, 40) && len > 0 && (size_t)len < sizeof(summary))
            snprintf(summary + len, sizeof(summary) - (size_t)len,
                     " Work is carried out with local %s.", PICK(s, partners));

        g.id = tb_begin(t);
        tb_textf(t, "base_request_id", "R-%04d-%05ld", year, seq);
        tb_text(t, "type", "GrantRequest");
        tb_text(t, "state", g.state);
        tb_int(t, "granted", granted);
        tb_text(t, "project_summary", summary);
        tb_int(t, "amount_requested", requested);
        tb_ref(t, "amount_recommended", recommended);
        tb_int(t, "request_received_at", g.received);
        tb_int(t, "grant_begins_at", g.begins);
        tb_int(t, "duration_in_months", g.months);
        tb_ref(t, "grant_approved_at",
               granted ? max64(g.received, min64(g.begins - rnd_range(s, 5, 25) * DAY, s->now))
                       : 0);
        tb_ref(t, "grant_closed_at", g.closed);
        tb_ref(t, "program_organization_id", po->id);
        tb_ref(t, "fiscal_organization_id", fo ? fo->id : 0);
        tb_ref(t, "grantee_user_id", po->contact);
        tb_ref(t, "grantee_org_owner_id", po->contact);
        tb_ref(t, "program_id", s->prog_id[p]);
        tb_ref(t, "sub_program_id", g.sub_program);
        tb_ref(t, "initiative_id", g.initiative);
        tb_ref(t, "program_lead_id", g.lead);
        tb_stamp(s, t, g.received, g.updated);
        if (tb_insert(s, t) < 0 || add_event(s, T_GRANT, g.id, g.state, g.received) < 0)
            return -1;
        if (granted && g.id && (seed_payments(s, &g) < 0 || seed_report(s, &g) < 0))
            return -1;
        if ((i % 25 == 0 || i == n - 1) &&
            add_note(s, T_GRANT, g.id, min64(g.received + 3 * DAY, s->now), g.lead) < 0)
            return -1;
        progress(s, "grant_request", 1);
    }
    return 0;
}

/* 1 when the table holds rows (a seeded database is not seeded again). */
static int has_rows(struct seed *s, const char *table)
{
    char sql[96];
    struct store_stmt *st = NULL;
    int found = 0;

    snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1", table);
    if (store_prepare(s->db, sql, STORE_NUL, 0, &st) == STORE_OK)
        found = store_step(st) == STORE_ROW;
    store_finalize(st);
    return found;
}

/* Explicit ids continue after what a table holds (the CLI's admin user, for one). */
static int first_ids(struct seed *s)
{
    for (int i = 0; i < T_COUNT; i++) {
        struct tbl *t = &s->t[i];
        char sql[96];
        struct store_stmt *st = NULL;

        if (!t->present)
            continue;
        snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(id), 0) + 1 FROM \"%s\"", t->name);
        if (store_prepare(s->db, sql, STORE_NUL, 0, &st) != STORE_OK ||
            store_step(st) != STORE_ROW) {
            seterr(s, "%s: %s", t->name, store_errmsg(s->db));
            store_finalize(st);
            return -1;
        }
        t->next_id = store_col_int(st, 0);
        store_finalize(st);
    }
    return 0;
}

/* Re-creates the dropped indexes; `weight` progress units are spread over them. */
static int create_indexes(struct seed *s, long long weight)
{
    int n = s->nsaved;

    for (int i = 0; i < n; i++) {
        progress(s, "indexes", 0);
        if (store_exec(s->db, s->saved[i], NULL, 0) != STORE_OK) {
            seterr(s, "%s: %s", s->saved[i], store_errmsg(s->db));
            return -1;
        }
        progress(s, "indexes", weight * (i + 1) / n - weight * i / n);
    }
    progress(s, "indexes", n ? 0 : weight);
    return 0;
}

int seed_run(struct store_conn *db, const struct seed_opts *o, char *err, size_t errlen)
{
    struct seed s;
    int ret = -1, in_tx = 0;
    long long index_weight;
    long n = o->grants;
    int64_t today = o->today ? o->today : (int64_t)time(NULL);

    memset(&s, 0, sizeof(s));
    s.db = db;
    s.err = err;
    s.errlen = errlen;
    s.rng = (uint64_t)o->random_seed;
    s.now = today / DAY * DAY;
    s.base_time = s.now - (6 * 365 + 60) * (int64_t)DAY;
    s.progress = o->progress;
    s.prog_last = -1;
    if (err && errlen)
        err[0] = '\0';
    if (n < 0) {
        seterr(&s, "--grants must be 0 or more");
        goto out;
    }
    for (int i = 0; i < T_COUNT; i++)
        if (tb_open(&s, i) < 0)
            goto out;
    if (!s.t[T_GRANT].present || !s.t[T_ORG].present || !s.t[T_USER].present) {
        seterr(&s, "the database has no schema (run grantd init first)");
        goto out;
    }
    store_bulk(db, 1);
    if (store_begin(db, 1) != STORE_OK) {
        seterr(&s, "begin: %s", store_errmsg(db));
        goto out;
    }
    in_tx = 1;
    if (has_rows(&s, "grant_request") || has_rows(&s, "organization")) {
        seterr(&s, "the database already holds organizations or grant requests; "
                   "seed a fresh database");
        goto out;
    }
    if (first_ids(&s) < 0)
        goto out;
    s.norgs = 3 + n / 4;
    index_weight = (s.norgs + n) / 3 + 1;
    s.prog_total = s.norgs + n + index_weight;
    s.nprog = NELEM(programs);
    /* staff first: every later row names staff 0 as its creator */
    if (seed_staff(&s, n) < 0 || seed_geo(&s) < 0 || seed_programs(&s) < 0 ||
        seed_funds(&s, n) < 0 || seed_orgs(&s, n) < 0 || seed_grants(&s, n) < 0)
        goto out;
    for (int i = 0; i < T_COUNT; i++)
        if (tb_flush(&s, &s.t[i]) < 0)
            goto out;
    if (create_indexes(&s, index_weight) < 0)
        goto out;
    if (store_exec(db, "COMMIT", NULL, 0) != STORE_OK) {
        seterr(&s, "commit: %s", store_errmsg(db));
        goto out;
    }
    in_tx = 0;
    char oerr[200];
    if (store_optimize(db, oerr, sizeof oerr) != 0) {
        seterr(&s, "optimizing the full-text indexes: %s", oerr);
        goto out;
    }
    if (s.progress)
        fputc('\n', stderr);
    ret = 0;
out:
    if (in_tx)
        store_exec(db, "ROLLBACK", NULL, 0);
    if (ret < 0 && s.progress && s.prog_last >= 0)
        fputc('\n', stderr);
    store_bulk(db, 0);
    for (int i = 0; i < T_COUNT; i++)
        tb_release(&s.t[i]);
    for (int i = 0; i < s.ncities; i++)
        free((char *)s.cities[i].name);
    free(s.cities);
    free(s.staff);
    free(s.orgs);
    for (int i = 0; i < s.nsaved; i++)
        free(s.saved[i]);
    free(s.saved);
    return ret;
}
