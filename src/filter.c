/* The filter compiler (see filter.h), in two steps: parse turns the JSON into a small tree
 * and checks it against the registry (field exists and is not secret, operator known and
 * allowed for the field's type, operand converts by that type); compile walks the tree
 * and appends SQL whose identifiers come from the registry and whose values are all bound.
 * Operators are rows of ops[] (name, operand kind, allowed types, compile function), so a
 * new operator is a new row and, at most, a new compile function. Also here: the calendar
 * periods of the relative-date operators, and the site time zone they are computed in. */
#include "filter.h"
#include "settings.h"
#include "store.h"
#include "fold.h"
#include "policy.h"
#include "util.h"
#include "value.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILTER_MAX_DEPTH 32    /* nesting of groups, the root group being level 1 */
#define FILTER_MAX_CONDS 1000  /* conditions (and basic-form values) in one filter */
#define FILTER_MAX_GROUPS 1000 /* groups in one filter */
/* Sub-queries over related records (cross-class and plural-relation conditions): the cost
 * bound of a filter beside its condition count; the query time limit does the rest. */
#define FILTER_MAX_SUBQUERIES 256
/* A group's members are emitted as a balanced tree of at most this many per level, so that
 * 1,000 OR-ed conditions nest ~4 levels deep instead of 1,000 (SQLite's parser refuses
 * expression trees deeper than 1,000). Groups up to this size compile as before. */
#define FILTER_FANOUT 8
#define FILTER_MAX_ALIAS 32 /* length of the caller's table alias */
#define CLIP_BYTES 60       /* bytes of a client string echoed in an error message */
#define SECS_PER_DAY 86400
#define FILTER_MAX_COUNT 100000 /* n of the relative-date operators */
#define FILTER_MAX_TEXT 4096    /* bytes of a contains/starts_with/like operand */

#define T(ft) (1u << (ft))
#define T_ORDERED                                                                                  \
    (T(FT_INT) | T(FT_DECIMAL) | T(FT_FLOAT) | T(FT_REF) | T(FT_REF_ALIAS) | T(FT_DATE) |          \
     T(FT_DATETIME))
#define T_SCALAR (T_ORDERED | T(FT_STRING) | T(FT_TEXT) | T(FT_BOOL))
#define T_ANY (T_SCALAR | T(FT_HAS_MANY))
#define T_DATES (T(FT_DATE) | T(FT_DATETIME))
#define T_TEXT (T(FT_STRING) | T(FT_TEXT))
#define T_REL (T(FT_REF) | T(FT_REF_ALIAS) | T(FT_HAS_MANY))

enum gtype { G_AND, G_OR, G_NOT_AND, G_NOT_OR };

/* What an operator takes as its third element. */
enum opk {
    OPK_NONE,  /* nothing: the "-" placeholder (also "" and null) */
    OPK_VALUE, /* one value, converted by the field's type */
    OPK_RANGE, /* "a - b", both ends converted by the field's type */
    OPK_COUNT, /* a whole number n, 1..FILTER_MAX_COUNT (relative dates) */
    OPK_YEARS, /* "2018 - 2019" or one year (range-year-cal, range-year-fiscal) */
    OPK_TEXT,  /* a string (or a number as its text) for contains, starts_with, like */
    OPK_GROUP, /* a nested group or a bare triple (cross-class `filter`) */
};

/* Calendar periods of the relative-date operators: fop.arg = unit | mode << 4 | n << 8,
 * where n is the fixed count of the operand-less forms (last-week: n = 1). */
enum unit { U_DAY, U_WEEK, U_MONTH, U_QUARTER, U_YEAR, U_FQUARTER, U_FYEAR };
enum pmode { P_THIS, P_LAST, P_NEXT, P_AGO };
#define PERIOD(u, m, n) ((u) | (m) << 4 | (n) << 8)

/* A converted operand value. */
enum fvk {
    FV_INT,  /* integers, ids, booleans 0/1, decimals scaled by 10^scale */
    FV_REAL, /* floats */
    FV_TEXT, /* strings */
    FV_DATE, /* date fields: day count since 1970-01-01 */
    FV_TIME, /* datetime fields given a full datetime: unix seconds */
    FV_DAY,  /* datetime fields given a bare date: day count, compared as that whole day */
};

struct fval {
    enum fvk k;
    int64_t i;
    double d;
    const char *s; /* FV_TEXT: points into the filter JSON or into num[] of this struct */
    size_t n;
    char num[48]; /* text form of a JSON number */
};

struct fctx;
struct fnode;

struct fop {
    const char *name;
    enum opk operand;
    unsigned types; /* T(FT_x) bits of the field types it applies to */
    int (*compile)(struct fctx *x, const struct fnode *n, const char *alias);
    int arg; /* passed to compile through n->op->arg (which comparison, ...) */
};

struct fnode {
    struct fnode *next;        /* next sibling in the parent group */
    struct fnode *alloc_next;  /* every node of the tree, for freeing */
    const struct class_def *c; /* the class the node is about */
    int is_group;
    /* group */
    enum gtype gt;
    struct fnode *kids, *last;
    /* condition */
    const struct field *f;
    const struct fop *op;
    struct fval a, b;  /* OPK_VALUE, OPK_TEXT: a; OPK_RANGE: a .. b */
    int64_t count;     /* OPK_COUNT; OPK_YEARS: first year (a.i is the last) */
    struct fnode *sub; /* OPK_GROUP: a group over the related class */
};

struct fctx {
    const struct filter_env *env; /* never NULL (filter_compile supplies defaults) */
    const char *root_alias;
    struct sql *q;
    char *err;
    size_t errlen;
    struct fnode *nodes;
    int nconds, ngroups, nalias;
};

/* A client string cut for an error message. */
struct clip {
    char s[CLIP_BYTES + 8];
};

/* ---- messages ---------------------------------------------------------------------- */

/* Drop a UTF-8 sequence cut short at the end of s (length len), so that a message built
 * from client text stays valid UTF-8 (jansson refuses invalid strings). */
static void utf8_trim(char *s, size_t len)
{
    size_t p = len, need;
    unsigned char lead;

    while (p > 0 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
        p--;
    if (p == 0)
        return;
    lead = (unsigned char)s[p - 1];
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (p - 1) < need)
        s[p - 1] = 0;
}

static const char *clip(struct clip *b, const char *s, size_t n)
{
    size_t k = n > CLIP_BYTES ? CLIP_BYTES : n;
    memcpy(b->s, s, k);
    b->s[k] = 0;
    if (k < n) {
        utf8_trim(b->s, k);
        strcat(b->s, "...");
    }
    return b->s;
}

static int fail(struct fctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct fctx *x, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!x->err || x->errlen == 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= x->errlen)
        utf8_trim(x->err, x->errlen - 1);
    return -1;
}

static const char *type_name(enum ftype t)
{
    switch (t) {
    case FT_INT:
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
    case FT_REF:
    case FT_REF_ALIAS:
        return "relation";
    case FT_HAS_MANY:
        return "plural relation";
    case FT_MULTI:
        return "multi-value";
    }
    return "unknown";
}

/* What an operand of the field's type must be, for messages. */
static const char *expected(enum ftype t)
{
    switch (t) {
    case FT_INT:
        return "an integer";
    case FT_DECIMAL:
    case FT_FLOAT:
        return "a number";
    case FT_STRING:
    case FT_TEXT:
        return "a string";
    case FT_BOOL:
        return "a boolean";
    case FT_DATE:
        return "a date";
    case FT_DATETIME:
        return "a datetime";
    case FT_REF:
    case FT_REF_ALIAS:
    case FT_HAS_MANY:
        return "an id";
    case FT_MULTI:
        return "a value";
    }
    return "a value";
}

/* ---- operand conversion ------------------------------------------------------------ */

/* Shortest text that reads back as d ("0.1", not "0.10000000000000001"), written without
 * an exponent when that fits in sz bytes, so the strict decimal and integer parsers can
 * take it. Assumes the C locale (grantd never calls setlocale). */
static void real_text(double d, char *buf, size_t sz)
{
    char tmp[40], digits[24];
    int nd = 0, exp10, point, need, len = 0;
    const char *e, *p;

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    e = strchr(tmp, 'e');
    if (!e) {
        snprintf(buf, sz, "%s", tmp);
        return;
    }
    /* [-]D[.DDD]e[+-]XX -> digits and the position of the point among them. */
    p = tmp;
    if (*p == '-')
        p++;
    for (; p < e; p++)
        if (*p != '.' && nd < (int)sizeof digits)
            digits[nd++] = *p;
    exp10 = atoi(e + 1);
    point = 1 + exp10; /* digits before the point */
    need = (d < 0) + (point <= 0 ? 2 - point + nd : point >= nd ? point : nd + 1) + 1;
    if (need > (int)sz) {
        snprintf(buf, sz, "%s", tmp); /* too long to spell out: no decimal column takes it */
        return;
    }
    if (d < 0)
        buf[len++] = '-';
    if (point <= 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int k = 0; k < -point; k++)
            buf[len++] = '0';
    }
    for (int k = 0; k < nd || k < point; k++) {
        if (k == point && point > 0)
            buf[len++] = '.';
        buf[len++] = k < nd ? digits[k] : '0';
    }
    buf[len] = 0;
}

/* A float in plain decimal or exponent notation, nothing else (strtod alone would take
 * "inf", "nan", hex and leading spaces). */
static int parse_float(const char *s, size_t n, double *out)
{
    char tmp[64];
    size_t i = 0, mant = 0;
    double d;

    if (n == 0 || n >= sizeof tmp)
        return -1;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        mant++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            mant++;
        }
    }
    if (mant == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t ed = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            ed++;
        }
        if (ed == 0)
            return -1;
    }
    if (i != n)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    d = strtod(tmp, NULL);
    if (!isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* A calendar date as YYYY-MM-DD or as M/D/YYYY (Fluxx's range example, US order). */
static int parse_any_date(const char *s, size_t n, int64_t *days)
{
    size_t i = 0, mlen, dlen;
    char iso[10];

    if (value_parse_date(s, n, days) == 0)
        return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    mlen = i;
    if (mlen < 1 || mlen > 2 || i >= n || s[i] != '/')
        return -1;
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    dlen = i - mlen - 1;
    if (dlen < 1 || dlen > 2 || i >= n || s[i] != '/' || n - i - 1 != 4)
        return -1;
    memcpy(iso, s + i + 1, 4);
    iso[4] = '-';
    iso[5] = mlen == 2 ? s[0] : '0';
    iso[6] = s[mlen - 1];
    iso[7] = '-';
    iso[8] = dlen == 2 ? s[mlen + 1] : '0';
    iso[9] = s[mlen + dlen];
    return value_parse_date(iso, sizeof iso, days);
}

/* Convert operand text by the field's type into v. from_number: the text is the decimal
 * form of a JSON number (so a date or a boolean word cannot be meant). */
static int convert_text(struct fctx *x, const struct field *f, const char *s, size_t n,
                        int from_number, struct fval *v)
{
    struct clip cb;
    int rc;

    switch (f->type) {
    case FT_MULTI:
        return fail(x, "%s is a multi-value field and cannot be filtered", f->name);
    case FT_INT:
    case FT_REF:
    case FT_REF_ALIAS:
    case FT_HAS_MANY:
        v->k = FV_INT;
        if (value_parse_int(s, n, &v->i) < 0)
            return fail(x, "'%s' is not %s for %s", clip(&cb, s, n), expected(f->type), f->name);
        return 0;
    case FT_DECIMAL:
        v->k = FV_INT;
        rc = value_parse_decimal(s, n, f->scale, &v->i);
        if (rc == -1 && from_number) {
            /* A JSON number too far out to spell without an exponent: tiny or huge. */
            const char *e = memchr(s, 'e', n);
            rc = e && e + 1 < s + n && e[1] == '-' ? -3 : -2;
        }
        if (rc == -2)
            return fail(x, "'%s' has more than 15 significant digits for %s", clip(&cb, s, n),
                        f->name);
        if (rc == -3)
            return fail(x, "'%s' has more than %d decimal places for %s", clip(&cb, s, n), f->scale,
                        f->name);
        if (rc < 0)
            return fail(x, "'%s' is not a number for %s", clip(&cb, s, n), f->name);
        return 0;
    case FT_FLOAT:
        v->k = FV_REAL;
        if (parse_float(s, n, &v->d) < 0)
            return fail(x, "'%s' is not a number for %s", clip(&cb, s, n), f->name);
        return 0;
    case FT_STRING:
    case FT_TEXT:
        v->k = FV_TEXT;
        v->s = s;
        v->n = n;
        return 0;
    case FT_BOOL:
        v->k = FV_INT;
        if ((n == 1 && s[0] == '1') || (n == 4 && memcmp(s, "true", 4) == 0))
            v->i = 1;
        else if ((n == 1 && s[0] == '0') || (n == 5 && memcmp(s, "false", 5) == 0))
            v->i = 0;
        else
            return fail(x, "'%s' is not a boolean for %s", clip(&cb, s, n), f->name);
        return 0;
    case FT_DATE:
        v->k = FV_DATE;
        if (from_number || parse_any_date(s, n, &v->i) < 0)
            return fail(x, "'%s' is not a date for %s", clip(&cb, s, n), f->name);
        return 0;
    case FT_DATETIME:
        if (!from_number && parse_any_date(s, n, &v->i) == 0) {
            v->k = FV_DAY;
            return 0;
        }
        v->k = FV_TIME;
        if (from_number || value_parse_datetime(s, n, &v->i) < 0)
            return fail(x, "'%s' is not a datetime for %s", clip(&cb, s, n), f->name);
        return 0;
    }
    return fail(x, "%s cannot be filtered", f->name);
}

/* A JSON operand (string, number or boolean) converted by the field's type. */
static int convert_value(struct fctx *x, const struct field *f, json_t *j, struct fval *v)
{
    if (json_is_string(j))
        return convert_text(x, f, json_string_value(j), json_string_length(j), 0, v);
    if (json_is_integer(j)) {
        snprintf(v->num, sizeof v->num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return convert_text(x, f, v->num, strlen(v->num), 1, v);
    }
    if (json_is_real(j)) {
        real_text(json_real_value(j), v->num, sizeof v->num);
        return convert_text(x, f, v->num, strlen(v->num), 1, v);
    }
    if (json_is_boolean(j)) {
        if (f->type == FT_BOOL) {
            v->k = FV_INT;
            v->i = json_is_true(j);
            return 0;
        }
        return fail(x, "%s is not %s for %s", json_is_true(j) ? "true" : "false", expected(f->type),
                    f->name);
    }
    return fail(x, "the operand for %s must be a string, a number or a boolean", f->name);
}

/* "a - b": the first '-' with a space on both sides splits (so "-5 - -1" and dates with
 * '-' inside work); spaces around both ends are dropped and neither may be empty. */
static int split_range(const char *s, size_t n, const char **a, size_t *alen, const char **b,
                       size_t *blen)
{
    size_t i, lo, hi;

    for (i = 1; i + 1 < n; i++)
        if (s[i] == '-' && s[i - 1] == ' ' && s[i + 1] == ' ')
            break;
    if (i + 1 >= n)
        return -1;
    for (lo = 0; lo < i && s[lo] == ' ';)
        lo++;
    for (hi = i; hi > lo && s[hi - 1] == ' ';)
        hi--;
    *a = s + lo;
    *alen = hi - lo;
    for (lo = i + 1; lo < n && s[lo] == ' ';)
        lo++;
    for (hi = n; hi > lo && s[hi - 1] == ' ';)
        hi--;
    *b = s + lo;
    *blen = hi - lo;
    return *alen > 0 && *blen > 0 ? 0 : -1;
}

static int is_placeholder(json_t *j)
{
    if (json_is_null(j))
        return 1;
    if (!json_is_string(j))
        return 0;
    return json_string_length(j) == 0 ||
           (json_string_length(j) == 1 && json_string_value(j)[0] == '-');
}

/* ---- time zones -------------------------------------------------------------------- */

/* The site zone is read from the TZif file of the system zoneinfo (the file `grantd
 * config set time_zone` checked) into an immutable table, rather than set with TZ and
 * tzset(): that is process-wide state, and the zone would then apply to every other
 * localtime_r of the process. Instants past the file's last transition follow its POSIX TZ
 * footer, so "slim" TZif files (transitions only until the rule takes over) work too. */

#define TZ_DIR "/usr/share/zoneinfo/"
#define TZ_MAX_FILE (512 * 1024)
#define TZ_MAX_TIMES 5000
#define TZ_MAX_TYPES 256
#define TZ_MAX_FOOTER 128
#define TZ_MAX_T 10000000000000LL /* +-316 000 years: instants are clamped to this */

/* A switch date of a POSIX TZ rule: Jn (1..365, Feb 29 never counted), n (0..365, counted)
 * or Mm.w.d (day d of week w of month m, w = 5 the last); secs is the local time of day of
 * the switch, which may be negative or past 24 h (RFC 8536 §3.3.1). */
struct tz_when {
    char kind; /* 'J', 'D' or 'M' */
    int n, m, w, d;
    int32_t secs;
};

struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    struct tz_when start, end;
};

struct filter_zone {
    struct filter_zone *next; /* the cache of filter_zone_load */
    char name[72];
    int ntimes;
    int64_t *times;    /* transition instants, ascending */
    int32_t *offs;     /* offset in force from times[i] on */
    int32_t first_off; /* before the first transition (time type 0) */
    int has_rule;
    struct tz_rule rule; /* from times[ntimes - 1] on (or always when ntimes is 0) */
};

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

static int64_t floormod(int64_t a, int64_t b)
{
    return a - floordiv(a, b) * b;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A name of a POSIX TZ string: three or more letters, or <...>. NULL when malformed. */
static const char *tz_name(const char *p)
{
    const char *start = p;

    if (*p == '<') {
        p++;
        while (*p && *p != '>')
            p++;
        return *p == '>' && p - start >= 4 ? p + 1 : NULL;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    return p - start >= 3 ? p : NULL;
}

/* A number lo..hi of at most 3 digits. */
static const char *tz_num(const char *p, int lo, int hi, int *out)
{
    int v = 0, digits = 0;

    while (*p >= '0' && *p <= '9' && digits < 3) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || v < lo || v > hi)
        return NULL;
    *out = v;
    return p;
}

/* [+-]hh[:mm[:ss]] as seconds, hours up to maxh. */
static const char *tz_secs(const char *p, int maxh, int32_t *out)
{
    int sign = 1, h = 0, m = 0, s = 0;

    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    p = tz_num(p, 0, maxh, &h);
    if (p && *p == ':')
        p = tz_num(p + 1, 0, 59, &m);
    if (p && *p == ':')
        p = tz_num(p + 1, 0, 59, &s);
    if (p)
        *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *tz_when(const char *p, struct tz_when *w)
{
    memset(w, 0, sizeof *w);
    w->secs = 7200;
    if (*p == 'M') {
        w->kind = 'M';
        p = tz_num(p + 1, 1, 12, &w->m);
        p = p && *p == '.' ? tz_num(p + 1, 1, 5, &w->w) : NULL;
        p = p && *p == '.' ? tz_num(p + 1, 0, 6, &w->d) : NULL;
    } else if (*p == 'J') {
        w->kind = 'J';
        p = tz_num(p + 1, 1, 365, &w->n);
    } else {
        w->kind = 'D';
        p = tz_num(p, 0, 365, &w->n);
    }
    if (p && *p == '/')
        p = tz_secs(p + 1, 167, &w->secs);
    return p;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]; POSIX offsets count west. */
static int tz_rule_parse(const char *s, struct tz_rule *r)
{
    const char *p = tz_name(s);
    int32_t off = 0;

    memset(r, 0, sizeof *r);
    p = p ? tz_secs(p, 24, &off) : NULL;
    if (!p)
        return -1;
    r->std_off = -off;
    if (!*p)
        return 0;
    p = tz_name(p);
    if (!p)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        p = tz_secs(p, 24, &off);
        if (!p)
            return -1;
        r->dst_off = -off;
    }
    if (!*p) { /* no dates: the POSIX default, the US rules */
        r->start = (struct tz_when){'M', 0, 3, 2, 0, 7200};
        r->end = (struct tz_when){'M', 0, 11, 1, 0, 7200};
        return 0;
    }
    p = *p == ',' ? tz_when(p + 1, &r->start) : NULL;
    p = p && *p == ',' ? tz_when(p + 1, &r->end) : NULL;
    return p && !*p ? 0 : -1;
}

static int64_t tz_when_day(int y, const struct tz_when *w)
{
    int64_t jan1 = value_days_from_civil(y, 1, 1), first, next, day;

    if (w->kind == 'J')
        return jan1 + w->n - 1 + (is_leap(y) && w->n >= 60);
    if (w->kind == 'D')
        return jan1 + w->n;
    first = value_days_from_civil(y, w->m, 1);
    next = w->m == 12 ? value_days_from_civil(y + 1, 1, 1) : value_days_from_civil(y, w->m + 1, 1);
    /* 1970-01-01 was a Thursday: day k is weekday (k + 4) mod 7, Sunday = 0. */
    day = first + floormod(w->d - floormod(first + 4, 7), 7) + 7 * (w->w - 1);
    while (day >= next)
        day -= 7;
    return day;
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
    int y, m, d;
    int64_t start, end;

    if (!r->has_dst)
        return r->std_off;
    value_civil_from_days(floordiv(t + r->std_off, SECS_PER_DAY), &y, &m, &d);
    start = tz_when_day(y, &r->start) * SECS_PER_DAY + r->start.secs - r->std_off;
    end = tz_when_day(y, &r->end) * SECS_PER_DAY + r->end.secs - r->dst_off;
    if (start <= end)
        return t >= start && t < end ? r->dst_off : r->std_off;
    return t >= end && t < start ? r->std_off : r->dst_off; /* southern hemisphere */
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of a TZif header and the size of the data block they describe. */
struct tzif_head {
    uint32_t isut, isstd, leap, times, types, chars;
    size_t block;
};

static int tzif_head(const unsigned char *p, const unsigned char *end, int tsize,
                     struct tzif_head *h)
{
    if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->times = be32(p + 32);
    h->types = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->times > TZ_MAX_TIMES || h->types < 1 || h->types > TZ_MAX_TYPES || h->isut > h->types ||
        h->isstd > h->types || h->leap > TZ_MAX_TIMES || h->chars > TZ_MAX_FILE)
        return -1;
    h->block = (size_t)h->times * (size_t)(tsize + 1) + (size_t)h->types * 6 + h->chars +
               (size_t)h->leap * (size_t)(tsize + 4) + h->isstd + h->isut;
    return (size_t)(end - p - 44) >= h->block ? 0 : -1;
}

void filter_zone_free(struct filter_zone *z)
{
    if (!z)
        return;
    free(z->times);
    free(z->offs);
    free(z);
}

struct filter_zone *filter_zone_parse(const unsigned char *buf, size_t len)
{
    const unsigned char *end, *p = buf, *data, *types, *f, *nl;
    struct filter_zone *z = NULL;
    struct tzif_head h;
    char footer[TZ_MAX_FOOTER];
    int tsize = 4;

    if (!buf)
        goto bad;
    end = buf + len;
    if (tzif_head(p, end, 4, &h) < 0)
        goto bad;
    if (buf[4] >= '2') { /* skip the 32-bit block: the 64-bit one follows */
        p += 44 + h.block;
        tsize = 8;
        if (tzif_head(p, end, 8, &h) < 0)
            goto bad;
    }
    data = p + 44;
    types = data + (size_t)h.times * (size_t)(tsize + 1);
    z = xcalloc(1, sizeof *z);
    z->times = xmalloc(sizeof *z->times * ((size_t)h.times + 1));
    z->offs = xmalloc(sizeof *z->offs * ((size_t)h.times + 1));
    for (uint32_t i = 0; i < h.types; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (off < -89999 || off > 93599)
            goto bad;
    }
    z->first_off = (int32_t)be32(types);
    for (uint32_t i = 0; i < h.times; i++) {
        int64_t t = tsize == 8 ? be64(data + 8 * i) : (int32_t)be32(data + 4 * i);
        unsigned idx = data[(size_t)h.times * (size_t)tsize + i];
        if (idx >= h.types || (i > 0 && t <= z->times[i - 1]))
            goto bad;
        z->times[i] = t;
        z->offs[i] = (int32_t)be32(types + 6 * idx);
    }
    z->ntimes = (int)h.times;
    f = data + h.block;
    if (tsize == 8 && f < end && *f == '\n') {
        nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
        if (nl && nl - f - 1 > 0 && nl - f - 1 < (ptrdiff_t)sizeof footer) {
            memcpy(footer, f + 1, (size_t)(nl - f - 1));
            footer[nl - f - 1] = 0;
            z->has_rule = tz_rule_parse(footer, &z->rule) == 0;
        }
    }
    return z;
bad:
    filter_zone_free(z);
    return NULL;
}

/* The names `grantd config` accepts: no absolute paths, no `..`. */
static int zone_name_ok(const char *v)
{
    size_t n = strlen(v);

    if (n == 0 || n > 64 || strstr(v, "..") || v[0] == '/')
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("/_+-", *p)))
            return 0;
    return 1;
}

static struct filter_zone *zone_read(const char *name)
{
    char path[128];
    unsigned char *buf = NULL;
    struct filter_zone *z = NULL;
    size_t len = 0;
    ssize_t r;
    int fd;

    snprintf(path, sizeof path, TZ_DIR "%s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto out;
    buf = xmalloc(TZ_MAX_FILE);
    while (len < TZ_MAX_FILE) {
        r = read(fd, buf + len, TZ_MAX_FILE - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    z = filter_zone_parse(buf, len);
    if (z)
        snprintf(z->name, sizeof z->name, "%s", name);
out:
    free(buf);
    return z;
}

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct filter_zone *zones; /* every zone loaded, kept for the life of the process */

const struct filter_zone *filter_zone_load(const char *name)
{
    struct filter_zone *z;

    if (!name || !zone_name_ok(name))
        return NULL;
    pthread_mutex_lock(&zone_lock);
    for (z = zones; z; z = z->next)
        if (strcmp(z->name, name) == 0)
            goto out;
    z = zone_read(name);
    if (z) {
        z->next = zones;
        zones = z;
    }
out:
    pthread_mutex_unlock(&zone_lock);
    return z;
}

int32_t filter_zone_offset(const struct filter_zone *z, int64_t t)
{
    int lo, hi, mid;

    if (!z)
        return 0;
    t = t < -TZ_MAX_T ? -TZ_MAX_T : t > TZ_MAX_T ? TZ_MAX_T : t;
    if (z->ntimes == 0)
        return z->has_rule ? tz_rule_offset(&z->rule, t) : z->first_off;
    if (t < z->times[0])
        return z->first_off;
    if (z->has_rule && t >= z->times[z->ntimes - 1])
        return tz_rule_offset(&z->rule, t);
    lo = 0;
    hi = z->ntimes - 1;
    while (lo < hi) { /* the last transition at or before t */
        mid = lo + (hi - lo + 1) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->offs[lo];
}

/* The earliest instant whose local time is at or past local midnight of `days`: midnight
 * itself, the earlier of two when the clock goes back over it, or the end of the gap when
 * the clock jumps over it (as in zones that change at 00:00). */
int64_t filter_zone_day_start(const struct filter_zone *z, int64_t days)
{
    int64_t wall, t1, t2, lo, hi, mid;

    days = days < -TZ_MAX_T / SECS_PER_DAY  ? -TZ_MAX_T / SECS_PER_DAY
           : days > TZ_MAX_T / SECS_PER_DAY ? TZ_MAX_T / SECS_PER_DAY
                                            : days;
    wall = days * SECS_PER_DAY;
    if (!z)
        return wall;
    t1 = wall - filter_zone_offset(z, wall - SECS_PER_DAY);
    t2 = wall - filter_zone_offset(z, wall + SECS_PER_DAY);
    lo = t1 < t2 ? t1 : t2;
    hi = t1 < t2 ? t2 : t1;
    if (lo + filter_zone_offset(z, lo) == wall)
        return lo;
    if (hi + filter_zone_offset(z, hi) == wall)
        return hi;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (mid + filter_zone_offset(z, mid) >= wall)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The local calendar day of instant t. */
static int64_t zone_day(const struct filter_zone *z, int64_t t)
{
    return floordiv(t + filter_zone_offset(z, t), SECS_PER_DAY);
}

/* ---- site settings ----------------------------------------------------------------- */

#define ENV_REFRESH_USEC 5000000 /* settings are re-read this often, per thread */

/* GRANTD_TODAY, a test hook: read once, by the first thread that needs it. */
static pthread_once_t today_once = PTHREAD_ONCE_INIT;
static int today_kind; /* 0: the clock; 1: today_val is a day; 2: today_val is an instant */
static int64_t today_val;

static void today_init(void)
{
    const char *s = getenv("GRANTD_TODAY");

    if (!s || !*s)
        return;
    if (value_parse_date(s, strlen(s), &today_val) == 0)
        today_kind = 1;
    else if (value_parse_datetime(s, strlen(s), &today_val) == 0)
        today_kind = 2;
    if (today_kind)
        fprintf(stderr,
                "GRANTD_TODAY=%.40s: relative-date filters use this as today (a test "
                "hook)\n",
                s);
    else
        fprintf(stderr, "GRANTD_TODAY=%.40s ignored: not YYYY-MM-DD nor RFC 3339\n", s);
}

struct env_cache {
    struct store_conn *db;
    int64_t at; /* now_usec() of the last read; 0: never */
    int week_start, fiscal_start;
    const struct filter_zone *zone;
    char zone_name[72];
};

static __thread struct env_cache env_cache;

static void env_reload(struct store_conn *db, struct env_cache *c)
{
    char name[72];

    c->week_start = (int)settings_int(db, "week_start");
    if (c->week_start < 1 || c->week_start > 7)
        c->week_start = 1;
    c->fiscal_start = (int)settings_int(db, "fiscal_year_start_month");
    if (c->fiscal_start < 1 || c->fiscal_start > 12)
        c->fiscal_start = 1;
    if (settings_get(db, "time_zone", name, sizeof name) != 0)
        snprintf(name, sizeof name, "UTC");
    if (strcmp(name, c->zone_name) != 0 || c->db != db) {
        c->zone = strcmp(name, "UTC") == 0 ? NULL : filter_zone_load(name);
        if (!c->zone && strcmp(name, "UTC") != 0)
            fprintf(stderr, "time_zone '%.64s' cannot be loaded from " TZ_DIR ": using UTC\n",
                    name);
        snprintf(c->zone_name, sizeof c->zone_name, "%s", name);
    }
    c->db = db;
}

void filter_env_site(struct store_conn *db, struct filter_env *env)
{
    struct env_cache *c = &env_cache;
    int64_t t = now_usec();

    if (c->db != db || c->at == 0 || t - c->at >= ENV_REFRESH_USEC) {
        env_reload(db, c);
        c->at = t ? t : 1;
    }
    env->week_start = c->week_start;
    env->fiscal_start = c->fiscal_start;
    env->zone = c->zone;
    pthread_once(&today_once, today_init);
    if (today_kind == 1)
        env->now = filter_zone_day_start(c->zone, today_val) + SECS_PER_DAY / 2;
    else if (today_kind == 2)
        env->now = today_val;
    else
        env->now = now_unix();
}

/* ---- compile ----------------------------------------------------------------------- */

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };
enum textop { X_CONTAINS, X_STARTS, X_NOT_STARTS, X_LIKE, X_NOT_LIKE };

static int compile_node(struct fctx *x, const struct fnode *n, const char *alias);

/* The first second of a calendar day for a datetime field: by its UTC date when the field
 * is date-only (Fluxx stores those as midnight UTC), else in the site's time zone. */
static int64_t day_start(const struct fctx *x, const struct field *f, int64_t days)
{
    if (f->flags & FF_DATEONLY)
        return days * SECS_PER_DAY;
    return filter_zone_day_start(x->env->zone, days);
}

static void emit_col(struct fctx *x, const char *alias, const struct field *f)
{
    registry_sql_ref(x->q, alias, f); /* a column, or a computed field's expression */
}

static void emit_val(struct fctx *x, const struct field *f, const struct fval *v)
{
    char day[16];
    switch (v->k) {
    case FV_INT:
    case FV_TIME:
        registry_bind(x->q, f, v->i);
        break;
    case FV_REAL:
        sql_bind_real(x->q, v->d);
        break;
    case FV_TEXT:
        sql_bind_text(x->q, v->s, v->n);
        break;
    case FV_DATE:
        sql_bind_text(x->q, day, value_format_days(v->i, day));
        break;
    case FV_DAY:
        registry_bind(x->q, f, day_start(x, f, v->i));
        break;
    }
}

/* col <op> ?, for one bound value or a day start. */
static void emit_cmp(struct fctx *x, const char *alias, const struct field *f, const char *op,
                     const struct fval *v, int64_t day)
{
    emit_col(x, alias, f);
    sql_append(x->q, op);
    if (v)
        emit_val(x, f, v);
    else
        registry_bind(x->q, f, day_start(x, f, day));
}

/* " AND <cond>" limiting a sub-query's rows of class k to those the caller may see. */
static void emit_scope(struct fctx *x, const struct class_def *k, const char *alias)
{
    if (x->env->who)
        policy_scope(x->env->who, k, alias, x->q);
}

static void new_alias(struct fctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%d", x->root_alias, ++x->nalias);
}

/* [NOT ]EXISTS over the live rows of a plural relation's target that point at this row,
 * optionally the one with a given id. Sub-query aliases are <root alias>_<n>. */
static int emit_exists(struct fctx *x, const struct fnode *n, const char *alias, int negate,
                       const struct fval *id)
{
    char sub[FILTER_MAX_ALIAS + 16];

    new_alias(x, sub, sizeof sub);
    sql_append(x->q, negate ? "NOT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ");
    sql_ident(x->q, n->f->target);
    sql_appendf(x->q, " %s WHERE %s.", sub, sub);
    sql_ident(x->q, n->f->via);
    sql_appendf(x->q, " = %s.\"id\" AND %s.\"deleted_at\" IS NULL", alias, sub);
    emit_scope(x, registry_class(n->f->target, strlen(n->f->target)), sub);
    if (id) {
        sql_appendf(x->q, " AND %s.\"id\" = ", sub);
        emit_val(x, n->f, id);
    }
    sql_append(x->q, ")");
    return 0;
}

/* eq, not-eq, lt, lte, gt, gte. A bare date against a datetime means that whole day. */
static int compile_cmp(struct fctx *x, const struct fnode *n, const char *alias)
{
    const char *const sqlop[] = {" = ", sql_dialect->ne_null, " < ", " <= ", " > ", " >= "};
    const struct fval *v = &n->a;
    enum cmp c = (enum cmp)n->op->arg;

    if (n->f->type == FT_HAS_MANY)
        return emit_exists(x, n, alias, c == C_NE, v);
    if (v->k != FV_DAY) {
        emit_cmp(x, alias, n->f, sqlop[c], v, 0);
        return 0;
    }
    switch (c) {
    case C_EQ:
        sql_append(x->q, "(");
        emit_cmp(x, alias, n->f, " >= ", NULL, v->i);
        sql_append(x->q, " AND ");
        emit_cmp(x, alias, n->f, " < ", NULL, v->i + 1);
        sql_append(x->q, ")");
        break;
    case C_NE: /* keeps NULLs, as not-eq does everywhere */
        sql_append(x->q, "(");
        emit_cmp(x, alias, n->f, " < ", NULL, v->i);
        sql_append(x->q, " OR ");
        emit_cmp(x, alias, n->f, " >= ", NULL, v->i + 1);
        sql_append(x->q, " OR ");
        emit_col(x, alias, n->f);
        sql_append(x->q, " IS NULL)");
        break;
    case C_LT:
        emit_cmp(x, alias, n->f, " < ", NULL, v->i);
        break;
    case C_LE:
        emit_cmp(x, alias, n->f, " < ", NULL, v->i + 1);
        break;
    case C_GT:
        emit_cmp(x, alias, n->f, " >= ", NULL, v->i + 1);
        break;
    case C_GE:
        emit_cmp(x, alias, n->f, " >= ", NULL, v->i);
        break;
    }
    return 0;
}

/* null (arg 0), not-null (arg 1). A plural relation is null when it has no live row. */
static int compile_null(struct fctx *x, const struct fnode *n, const char *alias)
{
    if (n->f->type == FT_HAS_MANY)
        return emit_exists(x, n, alias, !n->op->arg, NULL);
    emit_col(x, alias, n->f);
    sql_append(x->q, n->op->arg ? " IS NOT NULL" : " IS NULL");
    return 0;
}

/* range, inclusive of both ends; a bare-date upper end on a datetime includes that day. */
static int compile_range(struct fctx *x, const struct fnode *n, const char *alias)
{
    sql_append(x->q, "(");
    if (n->a.k == FV_DAY)
        emit_cmp(x, alias, n->f, " >= ", NULL, n->a.i);
    else
        emit_cmp(x, alias, n->f, " >= ", &n->a, 0);
    sql_append(x->q, " AND ");
    if (n->b.k == FV_DAY)
        emit_cmp(x, alias, n->f, " < ", NULL, n->b.i + 1);
    else
        emit_cmp(x, alias, n->f, " <= ", &n->b, 0);
    sql_append(x->q, ")");
    return 0;
}

/* The calendar days [d0, d1) as a condition on a date or datetime field. Dates are text
 * (years 0001..9999), so the bounds are clamped to what a date column can hold. */
static void emit_days(struct fctx *x, const char *alias, const struct field *f, int64_t d0,
                      int64_t d1)
{
    int64_t lo = value_days_from_civil(1, 1, 1), hi = value_days_from_civil(9999, 12, 31);
    char a[16], b[16];

    if (f->type != FT_DATE) {
        sql_append(x->q, "(");
        emit_cmp(x, alias, f, " >= ", NULL, d0);
        sql_append(x->q, " AND ");
        emit_cmp(x, alias, f, " < ", NULL, d1);
        sql_append(x->q, ")");
        return;
    }
    d1--;
    if (d0 > hi || d1 < lo || d0 > d1) {
        sql_append(x->q, sql_dialect->no);
        return;
    }
    d0 = d0 < lo ? lo : d0;
    d1 = d1 > hi ? hi : d1;
    sql_append(x->q, "(");
    emit_col(x, alias, f);
    sql_append(x->q, " >= ");
    sql_bind_text(x->q, a, value_format_days(d0, a));
    sql_append(x->q, " AND ");
    emit_col(x, alias, f);
    sql_append(x->q, " <= ");
    sql_bind_text(x->q, b, value_format_days(d1, b));
    sql_append(x->q, ")");
}

static int64_t month_index(int64_t day)
{
    int y, m, d;
    value_civil_from_days(day, &y, &m, &d);
    return (int64_t)y * 12 + m - 1;
}

static int64_t month_start(int64_t mi)
{
    return value_days_from_civil((int)floordiv(mi, 12), (int)floormod(mi, 12) + 1, 1);
}

static int64_t unit_months(enum unit u)
{
    return u == U_MONTH ? 1 : u == U_QUARTER || u == U_FQUARTER ? 3 : 12;
}

/* Fiscal periods start in the site's fiscal start month, calendar ones in January. */
static int64_t unit_shift(const struct fctx *x, enum unit u)
{
    return u == U_FQUARTER || u == U_FYEAR ? x->env->fiscal_start - 1 : 0;
}

/* Periods are numbered: day k of the epoch is in period period_index(k), which starts on
 * day period_start(i). Day k is weekday (k + 3) mod 7 + 1 (1 = Monday: 1970-01-01 was a
 * Thursday), so weeks start on the days k = week_start - 4 (mod 7). */
static int64_t period_index(const struct fctx *x, enum unit u, int64_t day)
{
    if (u == U_DAY)
        return day;
    if (u == U_WEEK)
        return floordiv(day - (x->env->week_start - 4), 7);
    return floordiv(month_index(day) - unit_shift(x, u), unit_months(u));
}

static int64_t period_start(const struct fctx *x, enum unit u, int64_t i)
{
    if (u == U_DAY)
        return i;
    if (u == U_WEEK)
        return i * 7 + (x->env->week_start - 4);
    return month_start(i * unit_months(u) + unit_shift(x, u));
}

/* this-X, last-n-X, next-n-X, X-n-ago (and their fixed-n spellings): whole periods
 * around the one holding today, today being the date of env->now in the site zone. */
static int compile_period(struct fctx *x, const struct fnode *n, const char *alias)
{
    enum unit u = (enum unit)(n->op->arg & 15);
    enum pmode m = (enum pmode)((n->op->arg >> 4) & 15);
    int64_t k = (n->op->arg >> 8) ? (n->op->arg >> 8) : n->count;
    if (x->env->used_now)
        *x->env->used_now = 1;
    int64_t i = period_index(x, u, zone_day(x->env->zone, x->env->now)), i0 = i, i1 = i;

    switch (m) {
    case P_THIS:
        break;
    case P_LAST:
        i0 = i - k;
        i1 = i - 1;
        break;
    case P_NEXT:
        i0 = i + 1;
        i1 = i + k;
        break;
    case P_AGO:
        i0 = i1 = i - k;
        break;
    }
    emit_days(x, alias, n->f, period_start(x, u, i0), period_start(x, u, i1 + 1));
    return 0;
}

/* range-year-cal (arg 0) and range-year-fiscal (arg 1), years n->count .. n->a.i. Fiscal
 * year N ends in calendar year N, so unless it starts in January it starts in N - 1. */
static int compile_years(struct fctx *x, const struct fnode *n, const char *alias)
{
    enum unit u = n->op->arg ? U_FYEAR : U_YEAR;
    int64_t y0 = n->count, y1 = n->a.i;

    if (u == U_FYEAR && x->env->fiscal_start > 1) {
        y0--;
        y1--;
    }
    emit_days(x, alias, n->f, period_start(x, u, y0), period_start(x, u, y1 + 1));
    return 0;
}

/* contains, starts_with, not-starts_with, like, not-like over case-folded text: the
 * operand is folded here, the column by grantd_fold() (fold.c) in SQL. The negated forms
 * keep NULLs, as not-eq does. LIKE's own ASCII case-insensitivity is moot after folding. */
static int compile_text(struct fctx *x, const struct fnode *n, const char *alias)
{
    enum textop t = (enum textop)n->op->arg;
    int neg = t == X_NOT_STARTS || t == X_NOT_LIKE;
    char *folded = NULL;
    size_t len = 0;

    fold_utf8(n->a.s, n->a.n, &folded, &len);
    if (neg) {
        sql_append(x->q, "(");
        emit_col(x, alias, n->f);
        sql_append(x->q, " IS NULL OR ");
    }
    if (t == X_LIKE || t == X_NOT_LIKE) {
        sql_append(x->q, "grantd_fold(");
        emit_col(x, alias, n->f);
        sql_append(x->q, neg ? ") NOT LIKE " : ") LIKE ");
        sql_bind_text(x->q, folded, len);
        sql_append(x->q, " ESCAPE '\\'");
    } else {
        sql_append(x->q, "instr(grantd_fold(");
        emit_col(x, alias, n->f);
        sql_append(x->q, "), ");
        sql_bind_text(x->q, folded, len);
        sql_append(x->q, t == X_CONTAINS ? ") > 0" : t == X_STARTS ? ") = 1" : ") <> 1");
    }
    if (neg)
        sql_append(x->q, ")");
    free(folded);
    return 0;
}

/* [relation, "filter", group]: a singular relation's id is one of the live target rows
 * matching the group; a plural relation has a live target row pointing here that does. */
static int compile_sub(struct fctx *x, const struct fnode *n, const char *alias)
{
    const struct class_def *t = n->sub->c;
    char sub[FILTER_MAX_ALIAS + 16];
    int rc;

    new_alias(x, sub, sizeof sub);
    if (n->f->type == FT_HAS_MANY) {
        sql_append(x->q, "EXISTS (SELECT 1 FROM ");
        sql_ident(x->q, t->name);
        sql_appendf(x->q, " %s WHERE %s.", sub, sub);
        sql_ident(x->q, n->f->via);
        sql_appendf(x->q, " = %s.\"id\" AND ", alias);
    } else {
        emit_col(x, alias, n->f);
        sql_appendf(x->q, " IN (SELECT %s.\"id\" FROM ", sub);
        sql_ident(x->q, t->name);
        sql_appendf(x->q, " %s WHERE ", sub);
    }
    sql_appendf(x->q, "%s.\"deleted_at\" IS NULL", sub);
    emit_scope(x, t, sub);
    sql_append(x->q, " AND ");
    rc = compile_node(x, n->sub, sub);
    sql_append(x->q, ")");
    return rc;
}

/* kids[0..n) joined by op; more than FILTER_FANOUT of them are split into parenthesised
 * runs (recursively), which keeps the expression shallow. */
static int compile_terms(struct fctx *x, const struct fnode **kids, int n, const char *op,
                         const char *alias)
{
    if (n <= FILTER_FANOUT) {
        for (int i = 0; i < n; i++) {
            if (i)
                sql_append(x->q, op);
            if (compile_node(x, kids[i], alias) < 0)
                return -1;
        }
        return 0;
    }
    int per = (n + FILTER_FANOUT - 1) / FILTER_FANOUT;
    for (int i = 0; i < n; i += per) {
        if (i)
            sql_append(x->q, op);
        sql_append(x->q, "(");
        if (compile_terms(x, kids + i, n - i < per ? n - i : per, op, alias) < 0)
            return -1;
        sql_append(x->q, ")");
    }
    return 0;
}

/* (A AND B), (A OR B); the NOT forms are `(... IS NOT TRUE)` so that a row on which the
 * inner expression is NULL (a NULL column) counts as not matching it and is kept, the
 * same two-valued logic not-eq follows. An empty group is its identity element. */
static int compile_group(struct fctx *x, const struct fnode *n, const char *alias)
{
    int neg = n->gt == G_NOT_AND || n->gt == G_NOT_OR;
    int conj = n->gt == G_AND || n->gt == G_NOT_AND;
    int rc = 0;

    if (!n->kids) {
        sql_appendf(x->q, "(%s)", conj != neg ? sql_dialect->yes : sql_dialect->no);
        return 0;
    }
    int nk = 0;
    for (const struct fnode *k = n->kids; k; k = k->next)
        nk++;
    const struct fnode **kids = xmalloc(sizeof *kids * (size_t)nk);
    nk = 0;
    for (const struct fnode *k = n->kids; k; k = k->next)
        kids[nk++] = k;
    if (neg)
        sql_append(x->q, "(");
    sql_append(x->q, "(");
    rc = compile_terms(x, kids, nk, conj ? " AND " : " OR ", alias);
    free(kids);
    if (rc < 0)
        return rc;
    sql_append(x->q, ")");
    if (neg)
        sql_append(x->q, " IS NOT TRUE)");
    return 0;
}

static int compile_node(struct fctx *x, const struct fnode *n, const char *alias)
{
    if (n->is_group)
        return compile_group(x, n, alias);
    return n->op->compile(x, n, alias);
}

/* ---- the tables -------------------------------------------------------------------- */

#define PER(name, opk, u, m, n)                                                                    \
    {                                                                                              \
        name, opk, T_DATES, compile_period, PERIOD(u, m, n)                                        \
    }

static const struct fop ops[] = {
    {"eq", OPK_VALUE, T_ANY, compile_cmp, C_EQ},
    {"not-eq", OPK_VALUE, T_ANY, compile_cmp, C_NE},
    {"lt", OPK_VALUE, T_ORDERED, compile_cmp, C_LT},
    {"lte", OPK_VALUE, T_ORDERED, compile_cmp, C_LE},
    {"gt", OPK_VALUE, T_ORDERED, compile_cmp, C_GT},
    {"gte", OPK_VALUE, T_ORDERED, compile_cmp, C_GE},
    {"null", OPK_NONE, T_ANY, compile_null, 0},
    {"not-null", OPK_NONE, T_ANY, compile_null, 1},
    {"range", OPK_RANGE, T_ORDERED, compile_range, 0},
    {"range-year-cal", OPK_YEARS, T_DATES, compile_years, 0},
    {"range-year-fiscal", OPK_YEARS, T_DATES, compile_years, 1},
    PER("yesterday", OPK_NONE, U_DAY, P_AGO, 1),
    PER("today", OPK_NONE, U_DAY, P_THIS, 0),
    PER("tomorrow", OPK_NONE, U_DAY, P_NEXT, 1),
    PER("last-n-days", OPK_COUNT, U_DAY, P_LAST, 0),
    PER("next-n-days", OPK_COUNT, U_DAY, P_NEXT, 0),
    PER("days-n-ago", OPK_COUNT, U_DAY, P_AGO, 0),
    PER("last-week", OPK_NONE, U_WEEK, P_LAST, 1),
    PER("this-week", OPK_NONE, U_WEEK, P_THIS, 0),
    PER("next-week", OPK_NONE, U_WEEK, P_NEXT, 1),
    PER("last-n-weeks", OPK_COUNT, U_WEEK, P_LAST, 0),
    PER("next-n-weeks", OPK_COUNT, U_WEEK, P_NEXT, 0),
    PER("weeks-n-ago", OPK_COUNT, U_WEEK, P_AGO, 0),
    PER("last-month", OPK_NONE, U_MONTH, P_LAST, 1),
    PER("this-month", OPK_NONE, U_MONTH, P_THIS, 0),
    PER("next-month", OPK_NONE, U_MONTH, P_NEXT, 1),
    PER("last-n-months", OPK_COUNT, U_MONTH, P_LAST, 0),
    PER("next-n-months", OPK_COUNT, U_MONTH, P_NEXT, 0),
    PER("months-n-ago", OPK_COUNT, U_MONTH, P_AGO, 0),
    PER("last-quarter", OPK_NONE, U_QUARTER, P_LAST, 1),
    PER("this-quarter", OPK_NONE, U_QUARTER, P_THIS, 0),
    PER("next-quarter", OPK_NONE, U_QUARTER, P_NEXT, 1),
    PER("last-n-quarters", OPK_COUNT, U_QUARTER, P_LAST, 0),
    PER("next-n-quarters", OPK_COUNT, U_QUARTER, P_NEXT, 0),
    PER("quarters-n-ago", OPK_COUNT, U_QUARTER, P_AGO, 0),
    PER("last-year", OPK_NONE, U_YEAR, P_LAST, 1),
    PER("this-year", OPK_NONE, U_YEAR, P_THIS, 0),
    PER("next-year", OPK_NONE, U_YEAR, P_NEXT, 1),
    PER("last-n-years", OPK_COUNT, U_YEAR, P_LAST, 0),
    PER("next-n-years", OPK_COUNT, U_YEAR, P_NEXT, 0),
    PER("years-n-ago", OPK_COUNT, U_YEAR, P_AGO, 0),
    PER("last-fiscal-quarter", OPK_NONE, U_FQUARTER, P_LAST, 1),
    PER("this-fiscal-quarter", OPK_NONE, U_FQUARTER, P_THIS, 0),
    PER("next-fiscal-quarter", OPK_NONE, U_FQUARTER, P_NEXT, 1),
    PER("last-n-fiscal-quarters", OPK_COUNT, U_FQUARTER, P_LAST, 0),
    PER("next-n-fiscal-quarters", OPK_COUNT, U_FQUARTER, P_NEXT, 0),
    PER("fiscal-n-quarters-ago", OPK_COUNT, U_FQUARTER, P_AGO, 0),
    /* Fiscal years with ZAP's spellings: last-fiscal, this-fiscal, next-fiscal-year. */
    PER("last-fiscal", OPK_NONE, U_FYEAR, P_LAST, 1),
    PER("this-fiscal", OPK_NONE, U_FYEAR, P_THIS, 0),
    PER("next-fiscal-year", OPK_NONE, U_FYEAR, P_NEXT, 1),
    PER("last-n-fiscal-years", OPK_COUNT, U_FYEAR, P_LAST, 0),
    PER("next-n-fiscal-years", OPK_COUNT, U_FYEAR, P_NEXT, 0),
    PER("fiscal-n-years-ago", OPK_COUNT, U_FYEAR, P_AGO, 0),
    {"contains", OPK_TEXT, T_TEXT, compile_text, X_CONTAINS},
    {"starts_with", OPK_TEXT, T_TEXT, compile_text, X_STARTS},
    {"not-starts_with", OPK_TEXT, T_TEXT, compile_text, X_NOT_STARTS},
    {"like", OPK_TEXT, T_TEXT, compile_text, X_LIKE},
    {"not-like", OPK_TEXT, T_TEXT, compile_text, X_NOT_LIKE},
    {"filter", OPK_GROUP, T_REL, compile_sub, 0},
};

static const struct {
    const char *name;
    enum gtype gt;
} gtypes[] = {
    {"and", G_AND},
    {"or", G_OR},
    {"not-and", G_NOT_AND},
    {"not-or", G_NOT_OR},
};

static const struct fop *find_op(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].name) == n && memcmp(ops[i].name, name, n) == 0)
            return &ops[i];
    return NULL;
}

/* ---- parse ------------------------------------------------------------------------- */

static struct fnode *new_node(struct fctx *x, const struct class_def *c)
{
    struct fnode *n = xcalloc(1, sizeof *n);
    n->c = c;
    n->alloc_next = x->nodes;
    x->nodes = n;
    return n;
}

static void add_kid(struct fnode *g, struct fnode *k)
{
    if (g->last)
        g->last->next = k;
    else
        g->kids = k;
    g->last = k;
}

static int new_group(struct fctx *x, const struct class_def *c, enum gtype gt, int depth,
                     struct fnode **out)
{
    if (depth > FILTER_MAX_DEPTH)
        return fail(x, "filter groups are nested deeper than %d levels", FILTER_MAX_DEPTH);
    if (++x->ngroups > FILTER_MAX_GROUPS)
        return fail(x, "filter has more than %d groups", FILTER_MAX_GROUPS);
    *out = new_node(x, c);
    (*out)->is_group = 1;
    (*out)->gt = gt;
    return 0;
}

/* A field a client may filter on: present in the class and not secret. */
static const struct field *find_field(struct fctx *x, const struct class_def *c, const char *name,
                                      size_t n)
{
    struct clip cb;
    const struct field *f = NULL;

    if (strlen(name) == n)
        f = registry_field(c, name);
    if (!f || (f->flags & FF_SECRET) ||
        (x->env->who && policy_field(x->env->who, f) == PF_HIDDEN)) {
        fail(x, "unknown field '%s' in filter for %s", clip(&cb, name, n), c->name);
        return NULL;
    }
    if (x->env->who && !policy_field_usable(x->env->who, f)) {
        fail(x, "%s of %s is masked to your role and cannot be filtered on", f->name, c->name);
        return NULL;
    }
    return f;
}

/* A plural relation is filtered through its target's table: that class must be served and
 * have the `via` column, or the SQL would name a table or column that does not exist. */
static int check_has_many(struct fctx *x, const struct class_def *c, const struct field *f)
{
    const struct class_def *t = NULL;
    const struct field *via = NULL;

    if (f->target && f->via)
        t = registry_class(f->target, strlen(f->target));
    if (t)
        via = registry_field(t, f->via);
    if (!via)
        return fail(x, "%s of %s cannot be used in a filter", f->name, c->name);
    return 0;
}

static int parse_group(struct fctx *x, const struct class_def *c, json_t *j, int depth,
                       struct fnode **out);

/* n of the relative-date operators: a whole number 1..FILTER_MAX_COUNT, JSON or text. */
static int parse_count(struct fctx *x, const struct field *f, const struct fop *op, json_t *j,
                       int64_t *out)
{
    struct clip cb;
    int64_t v = 0;
    int ok = 0;

    if (json_is_integer(j)) {
        v = json_integer_value(j);
        ok = 1;
    } else if (json_is_string(j)) {
        ok = value_parse_int(json_string_value(j), json_string_length(j), &v) == 0;
    }
    if (ok && v >= 1 && v <= FILTER_MAX_COUNT) {
        *out = v;
        return 0;
    }
    if (json_is_string(j))
        return fail(x, "operator '%s' needs a whole number n from 1 to %d for %s, not '%s'",
                    op->name, FILTER_MAX_COUNT, f->name,
                    clip(&cb, json_string_value(j), json_string_length(j)));
    if (json_is_integer(j))
        return fail(
            x,
            "operator '%s' needs a whole number n from 1 to %d for %s, not %" JSON_INTEGER_FORMAT,
            op->name, FILTER_MAX_COUNT, f->name, json_integer_value(j));
    return fail(x, "operator '%s' needs a whole number n from 1 to %d for %s", op->name,
                FILTER_MAX_COUNT, f->name);
}

/* A year 1..9999 at s[*i] (1 to 4 digits). */
static int parse_year(const char *s, size_t n, size_t *i, int64_t *y)
{
    size_t start = *i;

    *y = 0;
    while (*i < n && *i - start < 4 && s[*i] >= '0' && s[*i] <= '9') {
        *y = *y * 10 + (s[*i] - '0');
        (*i)++;
    }
    return *i > start && *y >= 1 ? 0 : -1;
}

static void skip_spaces(const char *s, size_t n, size_t *i)
{
    while (*i < n && s[*i] == ' ')
        (*i)++;
}

/* "2018 - 2019", "2018-2019" or "2018" (or the number 2018): first and last year. */
static int parse_years(struct fctx *x, const struct field *f, const struct fop *op, json_t *j,
                       int64_t *first, int64_t *last)
{
    struct clip cb;
    char num[32];
    const char *s;
    size_t n, i = 0;
    int bad;

    if (json_is_integer(j)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        s = num;
        n = strlen(num);
    } else if (json_is_string(j)) {
        s = json_string_value(j);
        n = json_string_length(j);
    } else {
        return fail(x, "operator '%s' needs a year or a range of years (\"2018 - 2019\") for %s",
                    op->name, f->name);
    }
    skip_spaces(s, n, &i);
    bad = parse_year(s, n, &i, first) < 0;
    skip_spaces(s, n, &i);
    *last = *first;
    if (!bad && i < n && s[i] == '-') {
        i++;
        skip_spaces(s, n, &i);
        bad = parse_year(s, n, &i, last) < 0;
        skip_spaces(s, n, &i);
    }
    if (bad || i != n)
        return fail(x, "'%s' is not a year or a range of years (\"2018 - 2019\") for %s",
                    clip(&cb, s, n), f->name);
    if (*first > *last)
        return fail(x, "the range of years '%s' ends before it starts, for %s", clip(&cb, s, n),
                    f->name);
    return 0;
}

/* The operand of contains, starts_with, like: a string (a number counts as its text),
 * not empty except for like, bounded, and for like not ending in a lone escape. */
static int parse_text(struct fctx *x, const struct field *f, const struct fop *op, json_t *j,
                      struct fval *v)
{
    struct clip cb;

    if (!json_is_string(j) && !json_is_number(j))
        return fail(x, "operator '%s' needs a string for %s", op->name, f->name);
    if (convert_value(x, f, j, v) < 0)
        return -1;
    if (v->n > FILTER_MAX_TEXT)
        return fail(x, "the operand of '%s' for %s is longer than %d bytes", op->name, f->name,
                    FILTER_MAX_TEXT);
    if (op->arg == X_LIKE || op->arg == X_NOT_LIKE) {
        for (size_t i = 0; i < v->n; i++) {
            if (v->s[i] != '\\')
                continue;
            if (i + 1 == v->n)
                return fail(x, "'%s' ends with the escape character \\ (operator '%s' for %s)",
                            clip(&cb, v->s, v->n), op->name, f->name);
            i++;
        }
    } else if (v->n == 0) {
        return fail(x, "operator '%s' needs a non-empty string for %s", op->name, f->name);
    }
    return 0;
}

static int parse_cond(struct fctx *x, const struct class_def *c, json_t *j, int depth,
                      struct fnode **out);

/* The group of [relation, "filter", group], over the related class; a bare triple is an
 * and-group of one, as at the top. */
static int parse_sub(struct fctx *x, const struct class_def *c, const struct field *f, json_t *j,
                     int depth, struct fnode **out)
{
    const struct class_def *t = NULL;
    struct fnode *k = NULL;

    if (f->target)
        t = registry_class(f->target, strlen(f->target));
    if (!t || !registry_field(t, "id") || !registry_field(t, "deleted_at"))
        return fail(x, "%s of %s cannot be used in a filter", f->name, c->name);
    if (json_is_object(j) && (json_object_get(j, "group_type") || json_object_get(j, "conditions")))
        return parse_group(x, t, j, depth + 1, out);
    if (json_is_array(j)) {
        if (new_group(x, t, G_AND, depth + 1, out) < 0 || parse_cond(x, t, j, depth + 1, &k) < 0)
            return -1;
        add_kid(*out, k);
        return 0;
    }
    return fail(x,
                "operator 'filter' needs a group {\"group_type\": .., \"conditions\": [..]} "
                "for %s",
                f->name);
}

/* One condition node: field f, operator op, operand j (already known to be present), at
 * group depth `depth`. */
static int make_cond(struct fctx *x, const struct class_def *c, const struct field *f,
                     const struct fop *op, json_t *j, int depth, struct fnode **out)
{
    struct fnode *n;
    struct clip cb;
    const char *s, *as, *bs;
    size_t alen, blen;

    if (++x->nconds > FILTER_MAX_CONDS)
        return fail(x, "filter has more than %d conditions", FILTER_MAX_CONDS);
    if (!(op->types & T(f->type)))
        return fail(x, "operator '%s' is not allowed for %s (%s)", op->name, f->name,
                    type_name(f->type));
    if (f->type == FT_HAS_MANY && check_has_many(x, c, f) < 0)
        return -1;
    n = new_node(x, c);
    n->f = f;
    n->op = op;
    *out = n;
    switch (op->operand) {
    case OPK_NONE:
        if (!is_placeholder(j))
            return fail(x, "operator '%s' takes no operand (send \"-\") for %s", op->name, f->name);
        return 0;
    case OPK_VALUE:
        return convert_value(x, f, j, &n->a);
    case OPK_RANGE:
        if (!json_is_string(j))
            return fail(x, "operator 'range' needs a string \"a - b\" for %s", f->name);
        s = json_string_value(j);
        if (split_range(s, json_string_length(j), &as, &alen, &bs, &blen) < 0)
            return fail(x, "'%s' is not a range (\"a - b\") for %s",
                        clip(&cb, s, json_string_length(j)), f->name);
        if (convert_text(x, f, as, alen, 0, &n->a) < 0)
            return -1;
        return convert_text(x, f, bs, blen, 0, &n->b);
    case OPK_COUNT:
        return parse_count(x, f, op, j, &n->count);
    case OPK_YEARS:
        return parse_years(x, f, op, j, &n->count, &n->a.i);
    case OPK_TEXT:
        return parse_text(x, f, op, j, &n->a);
    case OPK_GROUP:
        return parse_sub(x, c, f, j, depth, &n->sub);
    }
    return fail(x, "operator '%s' is not supported", op->name);
}

/* [field, operator, operand] */
static int parse_cond(struct fctx *x, const struct class_def *c, json_t *j, int depth,
                      struct fnode **out)
{
    json_t *jf, *jo;
    const struct field *f;
    const struct fop *op;
    struct clip cb;

    if (json_array_size(j) != 3)
        return fail(x, "a filter condition must be [field, operator, operand], not %zu elements",
                    json_array_size(j));
    jf = json_array_get(j, 0);
    jo = json_array_get(j, 1);
    if (!json_is_string(jf))
        return fail(x, "a filter condition must start with a field name");
    f = find_field(x, c, json_string_value(jf), json_string_length(jf));
    if (!f)
        return -1;
    if (!json_is_string(jo))
        return fail(x, "the operator for %s in filter must be a string", f->name);
    op = find_op(json_string_value(jo), json_string_length(jo));
    if (!op)
        return fail(x, "unknown operator '%s' in filter",
                    clip(&cb, json_string_value(jo), json_string_length(jo)));
    return make_cond(x, c, f, op, json_array_get(j, 2), depth, out);
}

/* An element of `conditions`: a condition or a nested group. */
static int parse_item(struct fctx *x, const struct class_def *c, json_t *j, int depth,
                      struct fnode **out)
{
    if (json_is_array(j))
        return parse_cond(x, c, j, depth, out);
    if (json_is_object(j))
        return parse_group(x, c, j, depth + 1, out);
    return fail(x, "a filter condition must be [field, operator, operand] or a group");
}

/* {"group_type": "and"|"or"|"not-and"|"not-or", "conditions": [item, ...]} */
static int parse_group(struct fctx *x, const struct class_def *c, json_t *j, int depth,
                       struct fnode **out)
{
    json_t *jt = json_object_get(j, "group_type");
    json_t *jc = json_object_get(j, "conditions");
    struct clip cb;
    struct fnode *g = NULL, *k;
    size_t i, nt = sizeof gtypes / sizeof gtypes[0];
    const char *s;

    if (!jt)
        return fail(x, "a filter group needs a group_type");
    if (!json_is_string(jt))
        return fail(x, "group_type in filter must be a string");
    s = json_string_value(jt);
    for (i = 0; i < nt; i++)
        if (strlen(gtypes[i].name) == json_string_length(jt) &&
            memcmp(gtypes[i].name, s, json_string_length(jt)) == 0)
            break;
    if (i == nt)
        return fail(x, "unknown group_type '%s' in filter", clip(&cb, s, json_string_length(jt)));
    if (!jc)
        return fail(x, "a filter group needs conditions");
    if (!json_is_array(jc))
        return fail(x, "conditions of a filter group must be an array");
    if (new_group(x, c, gtypes[i].gt, depth, &g) < 0)
        return -1;
    *out = g;
    for (size_t e = 0; e < json_array_size(jc); e++) {
        k = NULL;
        if (parse_item(x, c, json_array_get(jc, e), depth, &k) < 0)
            return -1;
        add_kid(g, k);
    }
    return 0;
}

/* The basic forms: {"<class>": {"f": v, "g": [v1, v2]}} or the flat {"f": v, ...}. Values
 * of a field are OR-ed (an empty list matches nothing), fields AND-ed; a null value means
 * the field is null. */
static int parse_basic(struct fctx *x, const struct class_def *c, json_t *j, struct fnode **out)
{
    const char *key;
    json_t *val, *inner = j, *e;
    struct fnode *g = NULL, *og = NULL, *k;
    const struct fop *eq = find_op("eq", 2), *isnull = find_op("null", 4);
    const struct field *f;

    if (json_object_size(j) == 1) {
        json_object_foreach(j, key, val)
        {
            if (json_is_object(val) && (strcmp(key, c->name) == 0 || strcmp(key, c->camel) == 0))
                inner = val;
        }
    }
    if (new_group(x, c, G_AND, 1, &g) < 0)
        return -1;
    *out = g;
    json_object_foreach(inner, key, val)
    {
        f = find_field(x, c, key, strlen(key));
        if (!f)
            return -1;
        if (json_is_array(val)) {
            if (new_group(x, c, G_OR, 2, &og) < 0)
                return -1;
            add_kid(g, og);
            for (size_t i = 0; i < json_array_size(val); i++) {
                e = json_array_get(val, i);
                k = NULL;
                if (make_cond(x, c, f, json_is_null(e) ? isnull : eq, e, 2, &k) < 0)
                    return -1;
                add_kid(og, k);
            }
        } else {
            k = NULL;
            if (make_cond(x, c, f, json_is_null(val) ? isnull : eq, val, 1, &k) < 0)
                return -1;
            add_kid(g, k);
        }
    }
    return 0;
}

static int alias_ok(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > FILTER_MAX_ALIAS || (a[0] >= '0' && a[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
              (a[i] >= '0' && a[i] <= '9') || a[i] == '_'))
            return 0;
    return 1;
}

int filter_compile(const struct class_def *c, json_t *filter, const char *alias,
                   const struct filter_env *env, struct sql *q, char *err, size_t errlen)
{
    struct fctx x;
    struct fnode *root = NULL, *k = NULL;
    struct filter_env e = {0};
    int rc = -1;

    if (env) {
        e = *env;
    } else {
        e.now = now_unix();
    }
    if (e.week_start < 1 || e.week_start > 7)
        e.week_start = 1;
    if (e.fiscal_start < 1 || e.fiscal_start > 12)
        e.fiscal_start = 1;
    memset(&x, 0, sizeof x);
    x.env = &e;
    x.root_alias = alias;
    x.q = q;
    x.err = err;
    x.errlen = errlen;
    if (err && errlen)
        err[0] = 0;

    if (!c || !alias || !alias_ok(alias)) {
        fail(&x, "filter: bad class or table alias");
        goto out;
    }
    if (json_is_array(filter)) {
        /* A bare triple is an and-group of that one condition. */
        if (new_group(&x, c, G_AND, 1, &root) < 0 || parse_cond(&x, c, filter, 1, &k) < 0)
            goto out;
        add_kid(root, k);
    } else if (json_is_object(filter)) {
        if (json_object_get(filter, "group_type") || json_object_get(filter, "conditions")) {
            if (parse_group(&x, c, filter, 1, &root) < 0)
                goto out;
        } else if (parse_basic(&x, c, filter, &root) < 0) {
            goto out;
        }
    } else {
        fail(&x, "filter must be a JSON object or array");
        goto out;
    }
    rc = compile_node(&x, root, alias);
    if (rc == 0 && x.nalias > FILTER_MAX_SUBQUERIES)
        rc = fail(&x,
                  "filter reads related records in more than %d places (conditions on "
                  "relations); split it",
                  FILTER_MAX_SUBQUERIES);
out:
    while (x.nodes) {
        struct fnode *n = x.nodes;
        x.nodes = n->alloc_next;
        free(n);
    }
    return rc;
}
