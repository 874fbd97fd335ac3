/* Unit tests for src/filter.c: exact SQL text and bound values for every form, operator
 * and field type, every error message, runs of compiled filters on in-memory SQLite tables
 * (NULL semantics, folded text, periods), calendar periods and time zones (against glibc),
 * cross-class filters. Uses its own small classes; built with -DUNIT_STANDALONE they are
 * also the registry (for plural relations), otherwise the real registry of
 * src/models/classes.c is linked and those cases check the refusal instead. */
#include "auth.h"
#include "filter.h"
#include "fold.h"
#include "sql.h"
#include "unit.h"
#include "value.h"

#include <jansson.h>
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct field grant_fields[] = {
    {.name = "id", .type = FT_INT, .flags = FF_SERVER},
    {.name = "name", .type = FT_STRING},
    {.name = "description", .type = FT_TEXT},
    {.name = "amount_requested", .type = FT_DECIMAL, .scale = 4},
    {.name = "fx_rate", .type = FT_DECIMAL, .scale = 8},
    {.name = "score", .type = FT_FLOAT},
    {.name = "active", .type = FT_BOOL},
    {.name = "fx_date", .type = FT_DATE},
    {.name = "grant_begins_at", .type = FT_DATETIME, .flags = FF_DATEONLY},
    {.name = "created_at", .type = FT_DATETIME, .flags = FF_SERVER},
    {.name = "deleted_at", .type = FT_DATETIME, .flags = FF_SERVER},
    {.name = "program_id", .type = FT_REF, .target = "ut_program"},
    {.name = "created_by", .type = FT_REF_ALIAS, .target = "user", .via = "created_by_id"},
    {.name = "created_by_id", .type = FT_REF, .target = "user"},
    {.name = "payments", .type = FT_HAS_MANY, .target = "ut_payment", .via = "request_id"},
    {.name = "documents", .type = FT_HAS_MANY, .target = "ut_nowhere", .via = "grant_id"},
    {.name = "bad_via", .type = FT_HAS_MANY, .target = "ut_payment", .via = "nope_id"},
    {.name = "password_digest", .type = FT_STRING, .flags = FF_SECRET},
    {.name = "state", .type = FT_STRING},
};

static const struct field payment_fields[] = {
    {.name = "id", .type = FT_INT, .flags = FF_SERVER},
    {.name = "request_id", .type = FT_REF, .target = "ut_grant"},
    {.name = "amount", .type = FT_DECIMAL, .scale = 4},
    {.name = "deleted_at", .type = FT_DATETIME, .flags = FF_SERVER},
};

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))

#ifdef UNIT_STANDALONE
#define UT_CLASSES registry_classes
#define UT_LINKAGE
const int registry_nclasses = 2;
#else
#define UT_CLASSES ut_classes
#define UT_LINKAGE static
#endif

UT_LINKAGE const struct class_def UT_CLASSES[] = {
    {.name = "ut_grant", .camel = "UtGrant", .fields = grant_fields, .nfields = NF(grant_fields)},
    {.name = "ut_payment",
     .camel = "UtPayment",
     .fields = payment_fields,
     .nfields = NF(payment_fields)},
};

#define G (&UT_CLASSES[0])

static char got_sql[65536], got_args[16384], got_err[256];

static void render_args(const struct sql *q)
{
    size_t len = 0;
    got_args[0] = 0;
    for (int i = 0; i < q->nargs && len < sizeof got_args - 64; i++) {
        const struct sqlv *a = &q->args[i];
        const char *sep = i ? ", " : "";
        switch (a->t) {
        case SQLV_NULL:
            len += (size_t)snprintf(got_args + len, sizeof got_args - len, "%snull", sep);
            break;
        case SQLV_INT:
            len += (size_t)snprintf(got_args + len, sizeof got_args - len, "%si:%lld", sep,
                                    (long long)a->i);
            break;
        case SQLV_REAL:
            len += (size_t)snprintf(got_args + len, sizeof got_args - len, "%sr:%.17g", sep, a->d);
            break;
        case SQLV_TEXT:
            len += (size_t)snprintf(got_args + len, sizeof got_args - len, "%ss:'%s'", sep, a->s);
            break;
        }
    }
}

/* Compile json for class c on alias "t"; the outputs land in got_*. */
static int run_on(const struct class_def *c, const char *alias, const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    struct filter_env env = {.now = 1586253600, .week_start = 1, .fiscal_start = 1};
    struct sql q;
    int rc;

    got_sql[0] = got_args[0] = got_err[0] = 0;
    if (!j) {
        fprintf(stderr, "bad test JSON: %s (%s)\n", json, je.text);
        return -99;
    }
    sql_init(&q);
    rc = filter_compile(c, j, alias, &env, &q, got_err, sizeof got_err);
    snprintf(got_sql, sizeof got_sql, "%s", q.buf ? q.buf : "");
    render_args(&q);
    sql_release(&q);
    json_decref(j);
    return rc;
}

static int run(const char *json)
{
    return run_on(G, "t", json);
}

#define OK(json, sql, args)                                                                        \
    do {                                                                                           \
        CHECK(run(json) == 0);                                                                     \
        CHECK_STR(got_sql, sql);                                                                   \
        CHECK_STR(got_args, args);                                                                 \
    } while (0)

#define BAD(json, msg)                                                                             \
    do {                                                                                           \
        CHECK(run(json) == -1);                                                                    \
        CHECK_STR(got_err, msg);                                                                   \
    } while (0)

static void test_groups(void)
{
    OK("{\"group_type\":\"and\",\"conditions\":[[\"id\",\"eq\",5],[\"name\",\"eq\",\"x\"]]}",
       "(t.\"id\" = ? AND t.\"name\" = ?)", "i:5, s:'x'");
    OK("{\"group_type\":\"or\",\"conditions\":[[\"id\",\"eq\",5],[\"id\",\"eq\",\"6\"]]}",
       "(t.\"id\" = ? OR t.\"id\" = ?)", "i:5, i:6");
    OK("{\"group_type\":\"not-and\",\"conditions\":[[\"id\",\"eq\",5],[\"state\",\"eq\",\"new\"]]}",
       "((t.\"id\" = ? AND t.\"state\" = ?) IS NOT TRUE)", "i:5, s:'new'");
    OK("{\"group_type\":\"not-or\",\"conditions\":[[\"id\",\"eq\",5],[\"id\",\"eq\",6]]}",
       "((t.\"id\" = ? OR t.\"id\" = ?) IS NOT TRUE)", "i:5, i:6");
    /* Nesting, extra members ignored. */
    OK("{\"group_type\":\"and\",\"x\":1,\"conditions\":[[\"id\",\"gt\",1],"
       "{\"group_type\":\"or\",\"conditions\":[[\"state\",\"eq\",\"a\"],"
       "{\"group_type\":\"not-and\",\"conditions\":[[\"active\",\"eq\",true]]}]}]}",
       "(t.\"id\" > ? AND (t.\"state\" = ? OR ((t.\"active\" = ?) IS NOT TRUE)))",
       "i:1, s:'a', i:1");
    /* Empty groups are their identity element. */
    OK("{\"group_type\":\"and\",\"conditions\":[]}", "(1)", "");
    OK("{\"group_type\":\"or\",\"conditions\":[]}", "(0)", "");
    OK("{\"group_type\":\"not-and\",\"conditions\":[]}", "(0)", "");
    OK("{\"group_type\":\"not-or\",\"conditions\":[]}", "(1)", "");
    OK("{\"group_type\":\"and\",\"conditions\":[{\"group_type\":\"or\",\"conditions\":[]},"
       "[\"id\",\"eq\",1]]}",
       "((0) AND t.\"id\" = ?)", "i:1");
    /* A bare triple is an and-group of one. */
    OK("[\"id\",\"eq\",12810295]", "(t.\"id\" = ?)", "i:12810295");
    OK("[\"name\",\"eq\",\"R-2024-00003\"]", "(t.\"name\" = ?)", "s:'R-2024-00003'");
    /* Another alias. */
    CHECK(run_on(G, "gr_2", "[\"id\",\"lt\",3]") == 0);
    CHECK_STR(got_sql, "(gr_2.\"id\" < ?)");
}

static void test_basic_forms(void)
{
    OK("{\"ut_grant\":{\"state\":[\"new\",\"granted\"],\"program_id\":3}}",
       "((t.\"state\" = ? OR t.\"state\" = ?) AND t.\"program_id\" = ?)",
       "s:'new', s:'granted', i:3");
    OK("{\"UtGrant\":{\"id\":[1]}}", "((t.\"id\" = ?))", "i:1");
    /* filter[ut_grant][program_id]=21490683 arrives unfolded, as strings. */
    OK("{\"ut_grant\":{\"program_id\":\"21490683\"}}", "(t.\"program_id\" = ?)", "i:21490683");
    OK("{\"ut_grant\":{\"active\":\"1\",\"id\":[\"1\",\"2\"]}}",
       "(t.\"active\" = ? AND (t.\"id\" = ? OR t.\"id\" = ?))", "i:1, i:1, i:2");
    /* Flat form. */
    OK("{\"name\":[\"a\",\"b\"],\"id\":123}",
       "((t.\"name\" = ? OR t.\"name\" = ?) AND t.\"id\" = ?)", "s:'a', s:'b', i:123");
    OK("{\"state\":\"new\"}", "(t.\"state\" = ?)", "s:'new'");
    /* An empty list matches nothing, null means the field is null, {} is no condition. */
    OK("{\"id\":[]}", "((0))", "");
    OK("{\"program_id\":null}", "(t.\"program_id\" IS NULL)", "");
    OK("{\"program_id\":[1,null]}", "((t.\"program_id\" = ? OR t.\"program_id\" IS NULL))", "i:1");
    OK("{}", "(1)", "");
    OK("{\"ut_grant\":{}}", "(1)", "");
    /* A different class name as the key is an unknown field, not silently ignored. */
    BAD("{\"ut_payment\":{\"amount\":1}}", "unknown field 'ut_payment' in filter for ut_grant");
    BAD("{\"ut_grant\":{\"nope\":1}}", "unknown field 'nope' in filter for ut_grant");
    BAD("{\"ut_grant\":{\"id\":1},\"name\":\"x\"}",
        "unknown field 'ut_grant' in filter for ut_grant");
    BAD("{\"id\":{\"a\":1}}", "the operand for id must be a string, a number or a boolean");
    BAD("{\"id\":[[1]]}", "the operand for id must be a string, a number or a boolean");
    BAD("{\"id\":\"abc\"}", "'abc' is not an integer for id");
    BAD("{\"password_digest\":\"x\"}", "unknown field 'password_digest' in filter for ut_grant");
}

static void test_types(void)
{
    /* Decimals: exact, scaled, from strings or JSON numbers. */
    OK("[\"amount_requested\",\"eq\",\"10000.5\"]", "(t.\"amount_requested\" = ?)", "i:100005000");
    OK("[\"amount_requested\",\"eq\",10000.5]", "(t.\"amount_requested\" = ?)", "i:100005000");
    OK("[\"amount_requested\",\"gte\",35000]", "(t.\"amount_requested\" >= ?)", "i:350000000");
    OK("[\"amount_requested\",\"lt\",0.1]", "(t.\"amount_requested\" < ?)", "i:1000");
    OK("[\"amount_requested\",\"lte\",-0.0001]", "(t.\"amount_requested\" <= ?)", "i:-1");
    OK("[\"fx_rate\",\"eq\",0.00001234]", "(t.\"fx_rate\" = ?)", "i:1234");
    OK("[\"fx_rate\",\"eq\",1e-8]", "(t.\"fx_rate\" = ?)", "i:1");
    OK("[\"amount_requested\",\"eq\",1e14]", "(t.\"amount_requested\" = ?)",
       "i:1000000000000000000");
    OK("[\"amount_requested\",\"eq\",123456789.0123]", "(t.\"amount_requested\" = ?)",
       "i:1234567890123");
    BAD("[\"amount_requested\",\"eq\",\"abc\"]", "'abc' is not a number for amount_requested");
    BAD("[\"amount_requested\",\"eq\",\"1e3\"]", "'1e3' is not a number for amount_requested");
    BAD("[\"amount_requested\",\"eq\",\"1.23456\"]",
        "'1.23456' has more than 4 decimal places for amount_requested");
    BAD("[\"amount_requested\",\"eq\",0.00001]",
        "'0.00001' has more than 4 decimal places for amount_requested");
    BAD("[\"amount_requested\",\"eq\",\"1234567890123456\"]",
        "'1234567890123456' has more than 15 significant digits for amount_requested");
    BAD("[\"amount_requested\",\"eq\",1e300]",
        "'1e+300' has more than 15 significant digits for amount_requested");
    BAD("[\"amount_requested\",\"eq\",-1e-300]",
        "'-1e-300' has more than 4 decimal places for amount_requested");
    BAD("[\"amount_requested\",\"eq\",1e-300]",
        "'1e-300' has more than 4 decimal places for amount_requested");
    BAD("[\"amount_requested\",\"eq\",-1e300]",
        "'-1e+300' has more than 15 significant digits for amount_requested");
    BAD("[\"amount_requested\",\"eq\",true]", "true is not a number for amount_requested");
    BAD("[\"amount_requested\",\"eq\",null]",
        "the operand for amount_requested must be a string, a number or a boolean");
    /* Integers and relations. */
    OK("[\"id\",\"eq\",\"+7\"]", "(t.\"id\" = ?)", "i:7");
    OK("[\"id\",\"gt\",5.0]", "(t.\"id\" > ?)", "i:5");
    OK("[\"program_id\",\"eq\",\"3094\"]", "(t.\"program_id\" = ?)", "i:3094");
    OK("[\"created_by\",\"eq\",263502]", "(t.\"created_by_id\" = ?)", "i:263502");
    OK("[\"created_by\",\"null\",\"-\"]", "(t.\"created_by_id\" IS NULL)", "");
    OK("[\"created_by\",\"gte\",1]", "(t.\"created_by_id\" >= ?)", "i:1");
    BAD("[\"id\",\"eq\",5.5]", "'5.5' is not an integer for id");
    BAD("[\"id\",\"eq\",\"9223372036854775808\"]",
        "'9223372036854775808' is not an integer for id");
    BAD("[\"id\",\"eq\",false]", "false is not an integer for id");
    BAD("[\"program_id\",\"eq\",\"abc\"]", "'abc' is not an id for program_id");
    BAD("[\"created_by\",\"eq\",[263502]]",
        "the operand for created_by must be a string, a number or a boolean");
    /* Floats. */
    OK("[\"score\",\"gt\",1.5]", "(t.\"score\" > ?)", "r:1.5");
    OK("[\"score\",\"lt\",\"-2e3\"]", "(t.\"score\" < ?)", "r:-2000");
    OK("[\"score\",\"eq\",3]", "(t.\"score\" = ?)", "r:3");
    BAD("[\"score\",\"eq\",\"inf\"]", "'inf' is not a number for score");
    BAD("[\"score\",\"eq\",\"0x10\"]", "'0x10' is not a number for score");
    BAD("[\"score\",\"eq\",\" 1\"]", "' 1' is not a number for score");
    BAD("[\"score\",\"eq\",\"1e999\"]", "'1e999' is not a number for score");
    /* Strings: numbers are taken as their text, booleans refused. */
    OK("[\"name\",\"eq\",\"O'Brien \\\" ; --\"]", "(t.\"name\" = ?)", "s:'O'Brien \" ; --'");
    OK("[\"name\",\"eq\",123]", "(t.\"name\" = ?)", "s:'123'");
    OK("[\"description\",\"not-eq\",\"\"]", "(t.\"description\" IS NOT ?)", "s:''");
    BAD("[\"name\",\"eq\",true]", "true is not a string for name");
    BAD("[\"name\",\"lt\",\"b\"]", "operator 'lt' is not allowed for name (string)");
    BAD("[\"description\",\"range\",\"a - b\"]",
        "operator 'range' is not allowed for description (text)");
    /* Booleans. */
    OK("[\"active\",\"eq\",true]", "(t.\"active\" = ?)", "i:1");
    OK("[\"active\",\"eq\",false]", "(t.\"active\" = ?)", "i:0");
    OK("[\"active\",\"eq\",1]", "(t.\"active\" = ?)", "i:1");
    OK("[\"active\",\"eq\",0]", "(t.\"active\" = ?)", "i:0");
    OK("[\"active\",\"eq\",\"1\"]", "(t.\"active\" = ?)", "i:1");
    OK("[\"active\",\"eq\",\"0\"]", "(t.\"active\" = ?)", "i:0");
    OK("[\"active\",\"eq\",\"true\"]", "(t.\"active\" = ?)", "i:1");
    OK("[\"active\",\"not-eq\",\"false\"]", "(t.\"active\" IS NOT ?)", "i:0");
    BAD("[\"active\",\"eq\",\"yes\"]", "'yes' is not a boolean for active");
    BAD("[\"active\",\"eq\",2]", "'2' is not a boolean for active");
    BAD("[\"active\",\"lt\",1]", "operator 'lt' is not allowed for active (boolean)");
    BAD("[\"active\",\"range\",\"0 - 1\"]", "operator 'range' is not allowed for active (boolean)");
    /* Dates: ISO or US text, bound as ISO text. */
    OK("[\"fx_date\",\"eq\",\"2020-04-07\"]", "(t.\"fx_date\" = ?)", "s:'2020-04-07'");
    OK("[\"fx_date\",\"lt\",\"4/7/2020\"]", "(t.\"fx_date\" < ?)", "s:'2020-04-07'");
    OK("[\"fx_date\",\"gte\",\"01/31/2018\"]", "(t.\"fx_date\" >= ?)", "s:'2018-01-31'");
    OK("[\"fx_date\",\"not-eq\",\"2020-02-29\"]", "(t.\"fx_date\" IS NOT ?)", "s:'2020-02-29'");
    BAD("[\"fx_date\",\"eq\",\"2020-02-30\"]", "'2020-02-30' is not a date for fx_date");
    BAD("[\"fx_date\",\"eq\",\"13/01/2020\"]", "'13/01/2020' is not a date for fx_date");
    BAD("[\"fx_date\",\"eq\",\"2020-04-07T00:00:00Z\"]",
        "'2020-04-07T00:00:00Z' is not a date for fx_date");
    BAD("[\"fx_date\",\"eq\",20200407]", "'20200407' is not a date for fx_date");
    /* Datetimes: exact instants, or a bare date meaning that whole UTC day. */
    OK("[\"created_at\",\"eq\",\"2020-04-07T10:00:00Z\"]", "(t.\"created_at\" = ?)",
       "i:1586253600");
    OK("[\"created_at\",\"gt\",\"2020-04-07T12:00:00+02:00\"]", "(t.\"created_at\" > ?)",
       "i:1586253600");
    OK("[\"created_at\",\"eq\",\"2020-04-07\"]",
       "((t.\"created_at\" >= ? AND t.\"created_at\" < ?))", "i:1586217600, i:1586304000");
    OK("[\"created_at\",\"not-eq\",\"04/07/2020\"]",
       "((t.\"created_at\" < ? OR t.\"created_at\" >= ? OR t.\"created_at\" IS NULL))",
       "i:1586217600, i:1586304000");
    OK("[\"created_at\",\"lt\",\"2020-04-07\"]", "(t.\"created_at\" < ?)", "i:1586217600");
    OK("[\"created_at\",\"lte\",\"2020-04-07\"]", "(t.\"created_at\" < ?)", "i:1586304000");
    OK("[\"created_at\",\"gt\",\"2020-04-07\"]", "(t.\"created_at\" >= ?)", "i:1586304000");
    OK("[\"created_at\",\"gte\",\"2020-04-07\"]", "(t.\"created_at\" >= ?)", "i:1586217600");
    OK("[\"grant_begins_at\",\"eq\",\"2020-04-07\"]",
       "((t.\"grant_begins_at\" >= ? AND t.\"grant_begins_at\" < ?))",
       "i:1586217600, i:1586304000");
    BAD("[\"created_at\",\"eq\",\"2020-04-07T10:00:00\"]",
        "'2020-04-07T10:00:00' is not a datetime for created_at");
    BAD("[\"created_at\",\"eq\",1586253600]", "'1586253600' is not a datetime for created_at");
    BAD("[\"created_at\",\"eq\",true]", "true is not a datetime for created_at");
}

static void test_null_range(void)
{
    OK("[\"program_id\",\"null\",\"-\"]", "(t.\"program_id\" IS NULL)", "");
    OK("[\"program_id\",\"not-null\",\"-\"]", "(t.\"program_id\" IS NOT NULL)", "");
    OK("[\"name\",\"null\",\"\"]", "(t.\"name\" IS NULL)", "");
    OK("[\"fx_date\",\"not-null\",null]", "(t.\"fx_date\" IS NOT NULL)", "");
    BAD("[\"name\",\"null\",\"x\"]", "operator 'null' takes no operand (send \"-\") for name");
    BAD("[\"name\",\"not-null\",0]", "operator 'not-null' takes no operand (send \"-\") for name");

    OK("[\"amount_requested\",\"range\",\"10000 - 20000\"]",
       "((t.\"amount_requested\" >= ? AND t.\"amount_requested\" <= ?))",
       "i:100000000, i:200000000");
    OK("[\"id\",\"range\",\"-5 - -1\"]", "((t.\"id\" >= ? AND t.\"id\" <= ?))", "i:-5, i:-1");
    OK("[\"id\",\"range\",\"  1   -   2  \"]", "((t.\"id\" >= ? AND t.\"id\" <= ?))", "i:1, i:2");
    OK("[\"score\",\"range\",\"0.5 - 1e2\"]", "((t.\"score\" >= ? AND t.\"score\" <= ?))",
       "r:0.5, r:100");
    OK("[\"fx_date\",\"range\",\"01/31/2018 - 12/31/2019\"]",
       "((t.\"fx_date\" >= ? AND t.\"fx_date\" <= ?))", "s:'2018-01-31', s:'2019-12-31'");
    OK("[\"created_at\",\"range\",\"2018-01-31 - 2019-12-31\"]",
       "((t.\"created_at\" >= ? AND t.\"created_at\" < ?))", "i:1517356800, i:1577836800");
    OK("[\"created_at\",\"range\",\"01/31/2018 - 2020-04-07T10:00:00Z\"]",
       "((t.\"created_at\" >= ? AND t.\"created_at\" <= ?))", "i:1517356800, i:1586253600");
    OK("[\"created_at\",\"range\",\"2020-04-07 10:00:00Z - 2020-04-08 10:00:00Z\"]",
       "((t.\"created_at\" >= ? AND t.\"created_at\" <= ?))", "i:1586253600, i:1586340000");
    OK("[\"program_id\",\"range\",\"1 - 9\"]",
       "((t.\"program_id\" >= ? AND t.\"program_id\" <= ?))", "i:1, i:9");
    BAD("[\"id\",\"range\",\"1-2\"]", "'1-2' is not a range (\"a - b\") for id");
    BAD("[\"id\",\"range\",\"1 - \"]", "'1 - ' is not a range (\"a - b\") for id");
    BAD("[\"id\",\"range\",\" - 2\"]", "' - 2' is not a range (\"a - b\") for id");
    BAD("[\"id\",\"range\",\"5\"]", "'5' is not a range (\"a - b\") for id");
    BAD("[\"id\",\"range\",5]", "operator 'range' needs a string \"a - b\" for id");
    BAD("[\"id\",\"range\",\"1 - x\"]", "'x' is not an integer for id");
    BAD("[\"amount_requested\",\"range\",\"1 - 0.00001\"]",
        "'0.00001' has more than 4 decimal places for amount_requested");
    BAD("[\"fx_date\",\"range\",\"2018-01-31 - 2019-13-01\"]",
        "'2019-13-01' is not a date for fx_date");
}

static void test_has_many(void)
{
#ifdef UNIT_STANDALONE
    OK("[\"payments\",\"eq\",77]",
       "(EXISTS (SELECT 1 FROM \"ut_payment\" t_1 WHERE t_1.\"request_id\" = t.\"id\" AND "
       "t_1.\"deleted_at\" IS NULL AND t_1.\"id\" = ?))",
       "i:77");
    OK("[\"payments\",\"not-eq\",\"77\"]",
       "(NOT EXISTS (SELECT 1 FROM \"ut_payment\" t_1 WHERE t_1.\"request_id\" = t.\"id\" AND "
       "t_1.\"deleted_at\" IS NULL AND t_1.\"id\" = ?))",
       "i:77");
    OK("[\"payments\",\"null\",\"-\"]",
       "(NOT EXISTS (SELECT 1 FROM \"ut_payment\" t_1 WHERE t_1.\"request_id\" = t.\"id\" AND "
       "t_1.\"deleted_at\" IS NULL))",
       "");
    OK("{\"group_type\":\"or\",\"conditions\":[[\"payments\",\"not-null\",\"-\"],"
       "[\"payments\",\"eq\",1]]}",
       "(EXISTS (SELECT 1 FROM \"ut_payment\" t_1 WHERE t_1.\"request_id\" = t.\"id\" AND "
       "t_1.\"deleted_at\" IS NULL) OR EXISTS (SELECT 1 FROM \"ut_payment\" t_2 WHERE "
       "t_2.\"request_id\" = t.\"id\" AND t_2.\"deleted_at\" IS NULL AND t_2.\"id\" = ?))",
       "i:1");
    OK("{\"payments\":[1,2]}",
       "((EXISTS (SELECT 1 FROM \"ut_payment\" t_1 WHERE t_1.\"request_id\" = t.\"id\" AND "
       "t_1.\"deleted_at\" IS NULL AND t_1.\"id\" = ?) OR EXISTS (SELECT 1 FROM \"ut_payment\" "
       "t_2 WHERE t_2.\"request_id\" = t.\"id\" AND t_2.\"deleted_at\" IS NULL AND t_2.\"id\" = "
       "?)))",
       "i:1, i:2");
    BAD("[\"payments\",\"eq\",\"x\"]", "'x' is not an id for payments");
#else
    BAD("[\"payments\",\"eq\",77]", "payments of ut_grant cannot be used in a filter");
#endif
    BAD("[\"payments\",\"gt\",1]", "operator 'gt' is not allowed for payments (plural relation)");
    BAD("[\"payments\",\"range\",\"1 - 2\"]",
        "operator 'range' is not allowed for payments (plural relation)");
    BAD("[\"documents\",\"eq\",1]", "documents of ut_grant cannot be used in a filter");
    BAD("[\"bad_via\",\"null\",\"-\"]", "bad_via of ut_grant cannot be used in a filter");
}

static void test_errors(void)
{
    BAD("[\"foo\",\"eq\",1]", "unknown field 'foo' in filter for ut_grant");
    BAD("[\"password_digest\",\"eq\",\"x\"]",
        "unknown field 'password_digest' in filter for ut_grant");
    BAD("[\"id\\u0000x\",\"eq\",1]", "unknown field 'id' in filter for ut_grant");
    BAD("[\"id\",\"equals\",1]", "unknown operator 'equals' in filter");
    BAD("[\"id\",\"EQ\",1]", "unknown operator 'EQ' in filter");
    BAD("[\"id\",\"eq\\u0000\",1]", "unknown operator 'eq' in filter");
    BAD("[\"id\",5,1]", "the operator for id in filter must be a string");
    BAD("[5,\"eq\",1]", "a filter condition must start with a field name");
    BAD("[\"id\",\"eq\"]", "a filter condition must be [field, operator, operand], not 2 elements");
    BAD("[\"id\",\"eq\",1,2]",
        "a filter condition must be [field, operator, operand], not 4 elements");
    BAD("[]", "a filter condition must be [field, operator, operand], not 0 elements");
    BAD("[[\"id\",\"eq\",1]]",
        "a filter condition must be [field, operator, operand], not 1 elements");
    BAD("{\"conditions\":[]}", "a filter group needs a group_type");
    BAD("{\"group_type\":\"and\"}", "a filter group needs conditions");
    BAD("{\"group_type\":\"and\",\"conditions\":{}}",
        "conditions of a filter group must be an array");
    BAD("{\"group_type\":\"xor\",\"conditions\":[]}", "unknown group_type 'xor' in filter");
    BAD("{\"group_type\":\"AND\",\"conditions\":[]}", "unknown group_type 'AND' in filter");
    BAD("{\"group_type\":1,\"conditions\":[]}", "group_type in filter must be a string");
    BAD("{\"group_type\":\"and\",\"conditions\":[5]}",
        "a filter condition must be [field, operator, operand] or a group");
    BAD("{\"group_type\":\"and\",\"conditions\":[{\"id\":1}]}",
        "a filter group needs a group_type");
    BAD("{\"group_type\":\"and\",\"conditions\":[[\"id\",\"eq\",1],[\"nope\",\"eq\",1]]}",
        "unknown field 'nope' in filter for ut_grant");
    BAD("\"id = 1\"", "filter must be a JSON object or array");
    BAD("5", "filter must be a JSON object or array");
    BAD("null", "filter must be a JSON object or array");
    /* Long and multi-byte client text is cut, on a character boundary. */
    BAD("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"eq\",1]",
        "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in filter "
        "for ut_grant");
    BAD("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\\u00e9\",\"eq\",1]",
        "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in filter "
        "for ut_grant");
    /* A bad alias is a programming error, still not a crash. */
    CHECK(run_on(G, "t; DROP", "[\"id\",\"eq\",1]") == -1);
    CHECK(run_on(G, "", "[\"id\",\"eq\",1]") == -1);
    CHECK(run_on(G, "1t", "[\"id\",\"eq\",1]") == -1);
}

/* Nested groups: 32 levels are fine, 33 are not; 1000 conditions are fine, 1001 are not. */
static void test_bounds(void)
{
    static char big[64 * 1024];
    size_t len = 0;
    struct sql q;
    char err[256];

    for (int levels = 32; levels <= 33; levels++) {
        len = 0;
        for (int i = 0; i < levels; i++)
            len += (size_t)snprintf(big + len, sizeof big - len,
                                    "{\"group_type\":\"and\",\"conditions\":[");
        len += (size_t)snprintf(big + len, sizeof big - len, "[\"id\",\"eq\",1]");
        for (int i = 0; i < levels; i++)
            len += (size_t)snprintf(big + len, sizeof big - len, "]}");
        if (levels == 32) {
            CHECK(run(big) == 0);
            CHECK(strlen(got_sql) == 32 * 2 + strlen("t.\"id\" = ?"));
        } else {
            BAD(big, "filter groups are nested deeper than 32 levels");
        }
    }
    for (int conds = 1000; conds <= 1001; conds++) {
        len = (size_t)snprintf(big, sizeof big, "{\"group_type\":\"or\",\"conditions\":[");
        for (int i = 0; i < conds; i++)
            len += (size_t)snprintf(big + len, sizeof big - len, "%s[\"id\",\"eq\",%d]",
                                    i ? "," : "", i);
        snprintf(big + len, sizeof big - len, "]}");
        if (conds == 1000) {
            CHECK(run(big) == 0);
            CHECK(strstr(got_args, "i:999") != NULL);
        } else {
            BAD(big, "filter has more than 1000 conditions");
        }
    }
    /* The basic form counts its values too. */
    len = (size_t)snprintf(big, sizeof big, "{\"id\":[");
    for (int i = 0; i < 1001; i++)
        len += (size_t)snprintf(big + len, sizeof big - len, "%s%d", i ? "," : "", i);
    snprintf(big + len, sizeof big - len, "]}");
    BAD(big, "filter has more than 1000 conditions");
    /* Many empty groups. */
    len = (size_t)snprintf(big, sizeof big, "{\"group_type\":\"or\",\"conditions\":[");
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(big + len, sizeof big - len,
                                "%s{\"group_type\":\"and\",\"conditions\":[]}", i ? "," : "");
    snprintf(big + len, sizeof big - len, "]}");
    BAD(big, "filter has more than 1000 groups");
    /* A tiny err buffer is filled, terminated and never overrun. */
    json_t *j = json_loads("[\"nope\",\"eq\",1]", 0, NULL);
    memset(err, 'x', sizeof err);
    sql_init(&q);
    CHECK(filter_compile(G, j, "t", NULL, &q, err, 8) == -1);
    CHECK_STR(err, "unknown");
    CHECK(err[8] == 'x');
    CHECK(filter_compile(G, j, "t", NULL, &q, NULL, 0) == -1);
    sql_release(&q);
    json_decref(j);
}

/* Run compiled filters on SQLite: the SQL is valid, and NULLs behave as documented. */
static struct store_conn *db;

static const char *ids(const char *json)
{
    static char out[512];
    struct sql q;
    struct store_stmt *st = NULL;
    size_t len = 0;
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);

    out[0] = 0;
    sql_init(&q);
    sql_append(&q, "SELECT t.\"id\" FROM \"ut_grant\" t WHERE ");
    if (!j || filter_compile(G, j, "t", NULL, &q, got_err, sizeof got_err) < 0) {
        snprintf(out, sizeof out, "error: %s", got_err);
        goto out;
    }
    sql_append(&q, " ORDER BY t.\"id\"");
    if (store_prepare_sql(db, &q, &st) != STORE_OK) {
        snprintf(out, sizeof out, "sqlite: %s", store_errmsg(db));
        goto out;
    }
    while (store_step(st) == STORE_ROW && len < sizeof out - 24)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                                (long long)store_col_int(st, 0));
out:
    store_finalize(st);
    sql_release(&q);
    json_decref(j);
    return out;
}

static void test_sqlite(void)
{
    const char *schema =
        "CREATE TABLE ut_grant (id INTEGER PRIMARY KEY, name TEXT, description TEXT,"
        " amount_requested INTEGER, fx_rate INTEGER, score REAL, active INTEGER, fx_date TEXT,"
        " grant_begins_at INTEGER, created_at INTEGER, deleted_at INTEGER, program_id INTEGER,"
        " created_by_id INTEGER, password_digest TEXT, state TEXT);"
        "CREATE TABLE ut_payment (id INTEGER PRIMARY KEY, request_id INTEGER, amount INTEGER,"
        " deleted_at INTEGER);"
        "INSERT INTO ut_grant (id, name, amount_requested, active, fx_date, created_at,"
        " program_id, state) VALUES"
        " (1, 'a', 100000000, 1, '2020-04-07', 1586253600, 3, 'new'),"
        " (2, 'b', 200000000, 0, '2020-04-08', 1586217599, NULL, 'granted'),"
        " (3, NULL, NULL, NULL, NULL, NULL, 4, NULL),"
        " (4, 'd', 5000, 1, '2019-12-31', 1586304000, 3, 'new');"
        "INSERT INTO ut_payment VALUES (10, 1, 5, NULL), (11, 1, 6, 1), (12, 4, 7, 1);";

    db = store_conn_open(":memory:", STORE_CREATE, NULL, 0);
    CHECK(db != NULL);
    CHECK(store_exec(db, schema, NULL, 0) == STORE_OK);
    CHECK_STR(ids("[\"state\",\"eq\",\"new\"]"), "1,4");
    CHECK_STR(ids("[\"state\",\"not-eq\",\"new\"]"), "2,3"); /* keeps the NULL row */
    CHECK_STR(ids("{\"group_type\":\"not-and\",\"conditions\":[[\"state\",\"eq\",\"new\"]]}"),
              "2,3");
    CHECK_STR(ids("{\"group_type\":\"not-or\",\"conditions\":[[\"amount_requested\",\"gt\",1],"
                  "[\"program_id\",\"eq\",4]]}"),
              "4");
    CHECK_STR(ids("[\"amount_requested\",\"range\",\"0.5 - 10000\"]"), "1,4");
    CHECK_STR(ids("[\"created_at\",\"eq\",\"2020-04-07\"]"), "1");
    CHECK_STR(ids("[\"created_at\",\"not-eq\",\"2020-04-07\"]"), "2,3,4");
    CHECK_STR(ids("[\"created_at\",\"lte\",\"2020-04-07\"]"), "1,2");
    CHECK_STR(ids("[\"created_at\",\"gt\",\"2020-04-07\"]"), "4");
    CHECK_STR(ids("[\"fx_date\",\"range\",\"12/31/2019 - 04/07/2020\"]"), "1,4");
    CHECK_STR(ids("[\"active\",\"eq\",\"true\"]"), "1,4");
    CHECK_STR(ids("{\"ut_grant\":{\"program_id\":[\"3\",null]}}"), "1,2,4");
    CHECK_STR(ids("[\"name\",\"eq\",\"a' OR '1'='1\"]"), "");
#ifdef UNIT_STANDALONE
    CHECK_STR(ids("[\"payments\",\"not-null\",\"-\"]"), "1"); /* 12 is deleted */
    CHECK_STR(ids("[\"payments\",\"null\",\"-\"]"), "2,3,4");
    CHECK_STR(ids("[\"payments\",\"eq\",10]"), "1");
    CHECK_STR(ids("[\"payments\",\"eq\",11]"), "");
    CHECK_STR(ids("[\"payments\",\"not-eq\",10]"), "2,3,4");
#endif
    store_conn_close(db);
}

/* ---- issue 3: relative dates, time zones, text operators, cross-class filters ---------- */

#define NOW_UTC_WED 1715742000 /* 2024-05-15T03:00:00Z: Wednesday 15 in UTC, Tuesday 14 in LA */

static struct filter_env env_at(int64_t now, int week_start, int fiscal_start, const char *zone)
{
    struct filter_env e = {.now = now, .week_start = week_start, .fiscal_start = fiscal_start};
    e.zone = zone ? filter_zone_load(zone) : NULL;
    return e;
}

static int run_env(const struct class_def *c, const struct filter_env *e, const char *json)
{
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    struct sql q;
    int rc;

    got_sql[0] = got_args[0] = got_err[0] = 0;
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        return -99;
    }
    sql_init(&q);
    rc = filter_compile(c, j, "t", e, &q, got_err, sizeof got_err);
    snprintf(got_sql, sizeof got_sql, "%s", q.buf ? q.buf : "");
    render_args(&q);
    sql_release(&q);
    json_decref(j);
    return rc;
}

/* The bound values of [field, op, operand] under env e. */
static const char *args_of(const struct filter_env *e, const char *field, const char *op,
                           const char *operand)
{
    char json[512];
    snprintf(json, sizeof json, "[\"%s\",\"%s\",%s]", field, op, operand);
    if (run_env(G, e, json) != 0)
        snprintf(got_args, sizeof got_args, "error: %s", got_err);
    return got_args;
}

#define DATES(a, b) "s:'" a "', s:'" b "'"

static void test_periods_dates(void)
{
    struct filter_env e = env_at(NOW_UTC_WED, 1, 1, NULL);

    /* The SQL shape, once. */
    CHECK(run_env(G, &e, "[\"fx_date\",\"today\",\"-\"]") == 0);
    CHECK_STR(got_sql, "((t.\"fx_date\" >= ? AND t.\"fx_date\" <= ?))");
    /* Days. */
    CHECK_STR(args_of(&e, "fx_date", "today", "\"-\""), DATES("2024-05-15", "2024-05-15"));
    CHECK_STR(args_of(&e, "fx_date", "today", "null"), DATES("2024-05-15", "2024-05-15"));
    CHECK_STR(args_of(&e, "fx_date", "today", "\"\""), DATES("2024-05-15", "2024-05-15"));
    CHECK_STR(args_of(&e, "fx_date", "yesterday", "\"-\""), DATES("2024-05-14", "2024-05-14"));
    CHECK_STR(args_of(&e, "fx_date", "tomorrow", "\"-\""), DATES("2024-05-16", "2024-05-16"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-days", "3"), DATES("2024-05-12", "2024-05-14"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-days", "\"3\""), DATES("2024-05-12", "2024-05-14"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-days", "3"), DATES("2024-05-16", "2024-05-18"));
    CHECK_STR(args_of(&e, "fx_date", "days-n-ago", "3"), DATES("2024-05-12", "2024-05-12"));
    CHECK_STR(args_of(&e, "fx_date", "days-n-ago", "\"+3\""), DATES("2024-05-12", "2024-05-12"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-days", "730"), DATES("2022-05-16", "2024-05-14"));
    /* Weeks from Monday (the default), Sunday and Wednesday. */
    CHECK_STR(args_of(&e, "fx_date", "this-week", "\"-\""), DATES("2024-05-13", "2024-05-19"));
    CHECK_STR(args_of(&e, "fx_date", "last-week", "\"-\""), DATES("2024-05-06", "2024-05-12"));
    CHECK_STR(args_of(&e, "fx_date", "next-week", "\"-\""), DATES("2024-05-20", "2024-05-26"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-weeks", "2"), DATES("2024-04-29", "2024-05-12"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-weeks", "2"), DATES("2024-05-20", "2024-06-02"));
    CHECK_STR(args_of(&e, "fx_date", "weeks-n-ago", "2"), DATES("2024-04-29", "2024-05-05"));
    e.week_start = 7;
    CHECK_STR(args_of(&e, "fx_date", "this-week", "\"-\""), DATES("2024-05-12", "2024-05-18"));
    CHECK_STR(args_of(&e, "fx_date", "last-week", "\"-\""), DATES("2024-05-05", "2024-05-11"));
    e.week_start = 3; /* today is a Wednesday: its week starts today */
    CHECK_STR(args_of(&e, "fx_date", "this-week", "\"-\""), DATES("2024-05-15", "2024-05-21"));
    e.week_start = 4;
    CHECK_STR(args_of(&e, "fx_date", "this-week", "\"-\""), DATES("2024-05-09", "2024-05-15"));
    e.week_start = 1;
    /* Months: leap February, and across a year. */
    CHECK_STR(args_of(&e, "fx_date", "this-month", "\"-\""), DATES("2024-05-01", "2024-05-31"));
    CHECK_STR(args_of(&e, "fx_date", "last-month", "\"-\""), DATES("2024-04-01", "2024-04-30"));
    CHECK_STR(args_of(&e, "fx_date", "next-month", "\"-\""), DATES("2024-06-01", "2024-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-months", "3"), DATES("2024-02-01", "2024-04-30"));
    CHECK_STR(args_of(&e, "fx_date", "months-n-ago", "3"), DATES("2024-02-01", "2024-02-29"));
    CHECK_STR(args_of(&e, "fx_date", "months-n-ago", "15"), DATES("2023-02-01", "2023-02-28"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-months", "8"), DATES("2024-06-01", "2025-01-31"));
    /* Quarters and years. */
    CHECK_STR(args_of(&e, "fx_date", "this-quarter", "\"-\""), DATES("2024-04-01", "2024-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "last-quarter", "\"-\""), DATES("2024-01-01", "2024-03-31"));
    CHECK_STR(args_of(&e, "fx_date", "next-quarter", "\"-\""), DATES("2024-07-01", "2024-09-30"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-quarters", "2"), DATES("2023-10-01", "2024-03-31"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-quarters", "2"), DATES("2024-07-01", "2024-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "quarters-n-ago", "4"), DATES("2023-04-01", "2023-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "this-year", "\"-\""), DATES("2024-01-01", "2024-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "last-year", "\"-\""), DATES("2023-01-01", "2023-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "next-year", "\"-\""), DATES("2025-01-01", "2025-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-years", "2"), DATES("2022-01-01", "2023-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-years", "2"), DATES("2025-01-01", "2026-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "years-n-ago", "1"), DATES("2023-01-01", "2023-12-31"));
    /* Fiscal periods: with a January start they are the calendar ones. */
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal", "\"-\""), DATES("2024-01-01", "2024-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal-quarter", "\"-\""),
              DATES("2024-04-01", "2024-06-30"));
    e.fiscal_start = 7; /* FY2024 = July 2023 .. June 2024 */
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal", "\"-\""), DATES("2023-07-01", "2024-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "last-fiscal", "\"-\""), DATES("2022-07-01", "2023-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "next-fiscal-year", "\"-\""),
              DATES("2024-07-01", "2025-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-fiscal-years", "2"),
              DATES("2021-07-01", "2023-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-fiscal-years", "2"),
              DATES("2024-07-01", "2026-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "fiscal-n-years-ago", "2"), DATES("2021-07-01", "2022-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal-quarter", "\"-\""),
              DATES("2024-04-01", "2024-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "range-year-fiscal", "\"2024\""),
              DATES("2023-07-01", "2024-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "range-year-fiscal", "\"2018 - 2019\""),
              DATES("2017-07-01", "2019-06-30"));
    CHECK_STR(args_of(&e, "fx_date", "range-year-cal", "\"2018 - 2019\""),
              DATES("2018-01-01", "2019-12-31"));
    e.fiscal_start = 2; /* quarters Feb-Apr, May-Jul, ... */
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal-quarter", "\"-\""),
              DATES("2024-05-01", "2024-07-31"));
    CHECK_STR(args_of(&e, "fx_date", "last-fiscal-quarter", "\"-\""),
              DATES("2024-02-01", "2024-04-30"));
    CHECK_STR(args_of(&e, "fx_date", "next-fiscal-quarter", "\"-\""),
              DATES("2024-08-01", "2024-10-31"));
    CHECK_STR(args_of(&e, "fx_date", "last-n-fiscal-quarters", "2"),
              DATES("2023-11-01", "2024-04-30"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-fiscal-quarters", "2"),
              DATES("2024-08-01", "2025-01-31"));
    CHECK_STR(args_of(&e, "fx_date", "fiscal-n-quarters-ago", "5"),
              DATES("2023-02-01", "2023-04-30"));
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal", "\"-\""), DATES("2024-02-01", "2025-01-31"));
    e.fiscal_start = 12; /* FY2025 = December 2024 .. November 2025 */
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal", "\"-\""), DATES("2023-12-01", "2024-11-30"));
    CHECK_STR(args_of(&e, "fx_date", "range-year-fiscal", "2025"),
              DATES("2024-12-01", "2025-11-30"));
    e.fiscal_start = 1;
    CHECK_STR(args_of(&e, "fx_date", "range-year-fiscal", "\" 2018-2019 \""),
              DATES("2018-01-01", "2019-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "range-year-cal", "2020"), DATES("2020-01-01", "2020-12-31"));
    /* Out-of-range settings fall back to the defaults. */
    e.week_start = 0;
    e.fiscal_start = 13;
    CHECK_STR(args_of(&e, "fx_date", "this-week", "\"-\""), DATES("2024-05-13", "2024-05-19"));
    CHECK_STR(args_of(&e, "fx_date", "this-fiscal", "\"-\""), DATES("2024-01-01", "2024-12-31"));
    /* Periods past what a date column holds match nothing; near it they are clamped. */
    e = env_at(NOW_UTC_WED, 1, 1, NULL);
    CHECK(run_env(G, &e, "[\"fx_date\",\"years-n-ago\",100000]") == 0);
    CHECK_STR(got_sql, "(0)");
    CHECK_STR(args_of(&e, "fx_date", "last-n-years", "100000"), DATES("0001-01-01", "2023-12-31"));
    CHECK_STR(args_of(&e, "fx_date", "next-n-years", "100000"), DATES("2025-01-01", "9999-12-31"));
}

static void test_periods_times(void)
{
    struct filter_env utc = env_at(NOW_UTC_WED, 1, 1, NULL);
    struct filter_env la = env_at(NOW_UTC_WED, 1, 1, "America/Los_Angeles");

    CHECK(la.zone != NULL);
    /* A datetime: [first instant of the first day, first instant after the last day). */
    CHECK(run_env(G, &utc, "[\"created_at\",\"today\",\"-\"]") == 0);
    CHECK_STR(got_sql, "((t.\"created_at\" >= ? AND t.\"created_at\" < ?))");
    CHECK_STR(got_args, "i:1715731200, i:1715817600");
    /* In Los Angeles it is still the 14th (PDT, UTC-7). */
    CHECK_STR(args_of(&la, "created_at", "today", "\"-\""), "i:1715670000, i:1715756400");
    CHECK_STR(args_of(&la, "created_at", "this-week", "\"-\""), "i:1715583600, i:1716188400");
    /* Date-only datetimes and dates compare by their UTC date, against the site's today. */
    CHECK_STR(args_of(&la, "grant_begins_at", "today", "\"-\""), "i:1715644800, i:1715731200");
    CHECK_STR(args_of(&la, "fx_date", "today", "\"-\""), DATES("2024-05-14", "2024-05-14"));
    /* March 2024 in LA: starts in PST (-8), DST from the 10th; the 10th is 23 hours long. */
    CHECK_STR(args_of(&la, "created_at", "months-n-ago", "2"), "i:1709280000, i:1711954800");
    la.now = 1710064800; /* 2024-03-10T10:00:00Z = 03:00 PDT */
    CHECK_STR(args_of(&la, "created_at", "today", "\"-\""), "i:1710057600, i:1710140400");
    la.now = 1730617200 + 3600; /* 2024-11-03, the 25-hour day */
    CHECK_STR(args_of(&la, "created_at", "today", "\"-\""), "i:1730617200, i:1730707200");
    /* A bare date against a datetime is that whole local day; date-only fields stay UTC. */
    la.now = NOW_UTC_WED;
    CHECK(run_env(G, &la, "[\"created_at\",\"eq\",\"2024-05-14\"]") == 0);
    CHECK_STR(got_args, "i:1715670000, i:1715756400");
    CHECK(run_env(G, &la, "[\"created_at\",\"range\",\"2024-05-14 - 2024-05-14\"]") == 0);
    CHECK_STR(got_args, "i:1715670000, i:1715756400");
    CHECK(run_env(G, &la, "[\"grant_begins_at\",\"eq\",\"2024-05-14\"]") == 0);
    CHECK_STR(got_args, "i:1715644800, i:1715731200");
    /* A full datetime is an exact instant in any zone. */
    CHECK(run_env(G, &la, "[\"created_at\",\"lt\",\"2024-05-14T07:00:00Z\"]") == 0);
    CHECK_STR(got_args, "i:1715670000");
    /* Fiscal years in the zone: FY2024 with July start. */
    la.fiscal_start = 7;
    CHECK_STR(args_of(&la, "created_at", "range-year-fiscal", "\"2024\""),
              "i:1688194800, i:1719817200");
}

static void test_period_errors(void)
{
    struct filter_env e = env_at(NOW_UTC_WED, 1, 1, NULL);

    BAD("[\"amount_requested\",\"last-n-days\",3]",
        "operator 'last-n-days' is not allowed for amount_requested (decimal)");
    BAD("[\"id\",\"today\",\"-\"]", "operator 'today' is not allowed for id (integer)");
    BAD("[\"name\",\"this-fiscal\",\"-\"]",
        "operator 'this-fiscal' is not allowed for name (string)");
    BAD("[\"active\",\"range-year-cal\",\"2018\"]",
        "operator 'range-year-cal' is not allowed for active (boolean)");
    BAD("[\"program_id\",\"this-week\",\"-\"]",
        "operator 'this-week' is not allowed for program_id (relation)");
    BAD("[\"fx_date\",\"today\",\"2024-05-15\"]",
        "operator 'today' takes no operand (send \"-\") for fx_date");
    BAD("[\"fx_date\",\"last-week\",1]",
        "operator 'last-week' takes no operand (send \"-\") for fx_date");
    BAD("[\"fx_date\",\"last-n-days\",0]",
        "operator 'last-n-days' needs a whole number n from 1 to 100000 for fx_date, not 0");
    BAD("[\"fx_date\",\"last-n-days\",-2]",
        "operator 'last-n-days' needs a whole number n from 1 to 100000 for fx_date, not -2");
    BAD("[\"fx_date\",\"next-n-days\",100001]",
        "operator 'next-n-days' needs a whole number n from 1 to 100000 for fx_date, not 100001");
    BAD("[\"fx_date\",\"days-n-ago\",\"two\"]",
        "operator 'days-n-ago' needs a whole number n from 1 to 100000 for fx_date, not 'two'");
    BAD("[\"fx_date\",\"days-n-ago\",\"-\"]",
        "operator 'days-n-ago' needs a whole number n from 1 to 100000 for fx_date, not '-'");
    BAD("[\"fx_date\",\"days-n-ago\",2.5]",
        "operator 'days-n-ago' needs a whole number n from 1 to 100000 for fx_date");
    BAD("[\"fx_date\",\"days-n-ago\",true]",
        "operator 'days-n-ago' needs a whole number n from 1 to 100000 for fx_date");
    BAD("[\"created_at\",\"weeks-n-ago\",null]",
        "operator 'weeks-n-ago' needs a whole number n from 1 to 100000 for created_at");
    BAD("[\"fx_date\",\"range-year-cal\",\"2019 - 2018\"]",
        "the range of years '2019 - 2018' ends before it starts, for fx_date");
    BAD("[\"fx_date\",\"range-year-cal\",\"2018 -\"]",
        "'2018 -' is not a year or a range of years (\"2018 - 2019\") for fx_date");
    BAD("[\"fx_date\",\"range-year-cal\",\"12018\"]",
        "'12018' is not a year or a range of years (\"2018 - 2019\") for fx_date");
    BAD("[\"fx_date\",\"range-year-cal\",\"0\"]",
        "'0' is not a year or a range of years (\"2018 - 2019\") for fx_date");
    BAD("[\"fx_date\",\"range-year-fiscal\",\"FY2018\"]",
        "'FY2018' is not a year or a range of years (\"2018 - 2019\") for fx_date");
    BAD("[\"fx_date\",\"range-year-fiscal\",[2018]]",
        "operator 'range-year-fiscal' needs a year or a range of years (\"2018 - 2019\") for "
        "fx_date");
    /* Operator names are exact: no unlisted spellings. */
    BAD("[\"fx_date\",\"this-fiscal-year\",\"-\"]",
        "unknown operator 'this-fiscal-year' in filter");
    BAD("[\"fx_date\",\"next-fiscal\",\"-\"]", "unknown operator 'next-fiscal' in filter");
    (void)e;
}

static void test_text_ops(void)
{
    OK("[\"name\",\"contains\",\"\\u00c9COLE\"]", "(instr(grantd_fold(t.\"name\"), ?) > 0)",
       "s:'\xc3\xa9"
       "cole'");
    OK("[\"name\",\"contains\",\"Stra\\u00dfe\"]", "(instr(grantd_fold(t.\"name\"), ?) > 0)",
       "s:'strasse'");
    OK("[\"description\",\"contains\",2024]", "(instr(grantd_fold(t.\"description\"), ?) > 0)",
       "s:'2024'");
    OK("[\"name\",\"starts_with\",\"Ab\"]", "(instr(grantd_fold(t.\"name\"), ?) = 1)", "s:'ab'");
    OK("[\"name\",\"not-starts_with\",\"Ab\"]",
       "((t.\"name\" IS NULL OR instr(grantd_fold(t.\"name\"), ?) <> 1))", "s:'ab'");
    OK("[\"name\",\"like\",\"A%b_\\\\%\"]", "(grantd_fold(t.\"name\") LIKE ? ESCAPE '\\')",
       "s:'a%b_\\%'");
    OK("[\"name\",\"not-like\",\"%X%\"]",
       "((t.\"name\" IS NULL OR grantd_fold(t.\"name\") NOT LIKE ? ESCAPE '\\'))", "s:'%x%'");
    OK("[\"name\",\"like\",\"\"]", "(grantd_fold(t.\"name\") LIKE ? ESCAPE '\\')", "s:''");
    OK("[\"state\",\"contains\",\"' OR 1=1 --\"]", "(instr(grantd_fold(t.\"state\"), ?) > 0)",
       "s:'' or 1=1 --'");
    BAD("[\"amount_requested\",\"contains\",\"1\"]",
        "operator 'contains' is not allowed for amount_requested (decimal)");
    BAD("[\"fx_date\",\"starts_with\",\"2024\"]",
        "operator 'starts_with' is not allowed for fx_date (date)");
    BAD("[\"active\",\"like\",\"1\"]", "operator 'like' is not allowed for active (boolean)");
    BAD("[\"program_id\",\"contains\",\"1\"]",
        "operator 'contains' is not allowed for program_id (relation)");
    BAD("[\"name\",\"contains\",\"\"]", "operator 'contains' needs a non-empty string for name");
    BAD("[\"name\",\"starts_with\",\"\"]",
        "operator 'starts_with' needs a non-empty string for name");
    BAD("[\"name\",\"contains\",true]", "operator 'contains' needs a string for name");
    BAD("[\"name\",\"contains\",null]", "operator 'contains' needs a string for name");
    BAD("[\"name\",\"contains\",[\"a\"]]", "operator 'contains' needs a string for name");
    BAD("[\"name\",\"like\",\"ab\\\\\"]",
        "'ab\\' ends with the escape character \\ (operator 'like' for name)");
    BAD("[\"name\",\"not-like\",\"\\\\\\\\\\\\\"]",
        "'\\\\\\' ends with the escape character \\ (operator 'not-like' for name)");
    OK("[\"name\",\"like\",\"\\\\\\\\\"]", "(grantd_fold(t.\"name\") LIKE ? ESCAPE '\\')",
       "s:'\\\\'");
    {
        static char big[8192];
        int len = snprintf(big, sizeof big, "[\"name\",\"contains\",\"");
        memset(big + len, 'a', 4097);
        snprintf(big + len + 4097, sizeof big - (size_t)len - 4097, "\"]");
        BAD(big, "the operand of 'contains' for name is longer than 4096 bytes");
        big[len + 4096] = '"';
        big[len + 4097] = ']';
        big[len + 4098] = 0;
        CHECK(run(big) == 0);
    }
}

/* Cross-class filters over the real registry: payments (request_transaction) by their
 * grant, by their grant's program, grants by their payments. */
static void test_cross_class(void)
{
    const struct class_def *pay = registry_class("request_transaction", 19);
    const struct class_def *gr = registry_class("grant_request", 13);
    struct filter_env e = env_at(NOW_UTC_WED, 1, 1, NULL);

    CHECK(pay != NULL && gr != NULL);
    if (!pay || !gr)
        return;
    CHECK(run_env(gr, &e,
                  "[\"program_id\",\"filter\",{\"group_type\":\"and\",\"conditions\":"
                  "[[\"name\",\"eq\",\"Health\"]]}]") == 0);
    CHECK_STR(got_sql, "(t.\"program_id\" IN (SELECT t_1.\"id\" FROM \"program\" t_1 WHERE "
                       "t_1.\"deleted_at\" IS NULL AND (t_1.\"name\" = ?)))");
    CHECK_STR(got_args, "s:'Health'");
    /* Nested two levels, bare triple as the inner operand, an alias relation. */
    CHECK(run_env(pay, &e,
                  "{\"group_type\":\"or\",\"conditions\":[[\"request_id\",\"filter\","
                  "{\"group_type\":\"not-and\",\"conditions\":[[\"program_id\",\"filter\","
                  "[\"name\",\"contains\",\"HEALTH\"]]]}],[\"created_by\",\"filter\","
                  "[\"login\",\"eq\",\"x\"]]]}") == 0);
    CHECK_STR(
        got_sql,
        "(t.\"request_id\" IN (SELECT t_1.\"id\" FROM \"grant_request\" t_1 WHERE "
        "t_1.\"deleted_at\" IS NULL AND ((t_1.\"program_id\" IN (SELECT t_2.\"id\" FROM "
        "\"program\" t_2 WHERE t_2.\"deleted_at\" IS NULL AND (instr(grantd_fold(t_2.\"name\"), "
        "?) > 0))) IS NOT TRUE)) OR t.\"created_by_id\" IN (SELECT t_3.\"id\" FROM \"user\" "
        "t_3 WHERE t_3.\"deleted_at\" IS NULL AND (t_3.\"login\" = ?)))");
    CHECK_STR(got_args, "s:'health', s:'x'");
    /* A plural relation backed by a foreign key. */
    CHECK(run_env(
              gr, &e,
              "[\"request_transaction_ids\",\"filter\",{\"group_type\":\"and\","
              "\"conditions\":[[\"state\",\"eq\",\"paid\"],[\"paid_at\",\"this-year\",\"-\"]]}]") ==
          0);
    CHECK_STR(got_sql, "(EXISTS (SELECT 1 FROM \"request_transaction\" t_1 WHERE "
                       "t_1.\"request_id\" = t.\"id\" AND t_1.\"deleted_at\" IS NULL AND "
                       "(t_1.\"state\" = ? AND (t_1.\"paid_at\" >= ? AND t_1.\"paid_at\" < ?))))");
    CHECK_STR(got_args, "s:'paid', i:1704067200, i:1735689600");
    /* Errors name the piece, inside the related class too. */
    CHECK(run_env(gr, &e, "[\"program_id\",\"filter\",[\"nope\",\"eq\",1]]") == -1);
    CHECK_STR(got_err, "unknown field 'nope' in filter for program");
    CHECK(run_env(gr, &e, "[\"program_id\",\"filter\",[\"name\",\"gt\",1]]") == -1);
    CHECK_STR(got_err, "operator 'gt' is not allowed for name (string)");
    CHECK(run_env(gr, &e, "[\"amount_requested\",\"filter\",[\"name\",\"eq\",1]]") == -1);
    CHECK_STR(got_err, "operator 'filter' is not allowed for amount_requested (decimal)");
    CHECK(run_env(gr, &e, "[\"program_id\",\"filter\",\"name = 1\"]") == -1);
    CHECK_STR(got_err, "operator 'filter' needs a group {\"group_type\": .., \"conditions\": [..]} "
                       "for program_id");
    CHECK(run_env(gr, &e, "[\"program_id\",\"filter\",{\"name\":\"x\"}]") == -1);
    CHECK_STR(got_err, "operator 'filter' needs a group {\"group_type\": .., \"conditions\": [..]} "
                       "for program_id");
    CHECK(run_env(gr, &e, "[\"program_id\",\"filter\",{\"group_type\":\"and\"}]") == -1);
    CHECK_STR(got_err, "a filter group needs conditions");
    CHECK(run_env(gr, &e, "[\"fund_docket_id\",\"filter\",[\"id\",\"eq\",1]]") == -1);
    CHECK_STR(got_err, "fund_docket_id of grant_request cannot be used in a filter");
    /* Cross-class groups count toward the nesting limit. */
    {
        static char big[16384];
        size_t len = 0;
        for (int i = 0; i < 31; i++)
            len += (size_t)snprintf(big + len, sizeof big - len,
                                    "{\"group_type\":\"and\",\"conditions\":[");
        len += (size_t)snprintf(big + len, sizeof big - len,
                                "[\"program_id\",\"filter\",[\"parent_id\",\"filter\",[\"id\","
                                "\"eq\",1]]]");
        for (int i = 0; i < 31; i++)
            len += (size_t)snprintf(big + len, sizeof big - len, "]}");
        CHECK(run_env(gr, &e, big) == -1);
        CHECK_STR(got_err, "filter groups are nested deeper than 32 levels");
    }
}

/* The caller's scope (policy.h) applies to every related class a sub-query reads. */
static void test_scope(void)
{
    const struct class_def *gr = registry_class("grant_request", 13);
    struct filter_env e = env_at(NOW_UTC_WED, 1, 1, NULL);
    struct principal grantee = {.user_id = 42, .role = "grantee"};

    e.who = &grantee;
    CHECK(
        run_env(gr, &e,
                "{\"group_type\":\"and\",\"conditions\":[[\"program_organization_id\","
                "\"filter\",[\"name\",\"eq\",\"a\"]],[\"request_report_ids\",\"null\",\"-\"]]}") ==
        0);
    CHECK(strstr(got_sql, "FROM \"organization\" t_1 WHERE t_1.\"deleted_at\" IS NULL AND "
                          "t_1.\"id\" IN (SELECT uo.\"organization_id\" FROM "
                          "\"user_organization\" uo WHERE uo.\"user_id\" = ?") != NULL);
    CHECK(strstr(got_sql, "t_2.\"deleted_at\" IS NULL AND t_2.\"request_id\" IN (SELECT "
                          "g.\"id\" FROM \"grant_request\" g") != NULL);
    CHECK(strstr(got_args, "42") != NULL);
}

/* A field shown masked to a role cannot be filtered on by that role (it would give the
 * value away a character at a time); roles that see it in clear may. */
static void test_masked_fields(void)
{
    const struct class_def *ba = registry_class("bank_account", 12);
    struct filter_env e = env_at(NOW_UTC_WED, 1, 1, NULL);
    static const char *const masked[] = {"grantee", "developer", "employee"};
    static const char *const clear[] = {"admin", "super_user"};
    struct principal p = {.user_id = 1};

    e.who = &p;
    for (size_t i = 0; i < 3; i++) {
        snprintf(p.role, sizeof p.role, "%s", masked[i]);
        CHECK(run_env(ba, &e, "[\"account_number\",\"starts_with\",\"12\"]") == -1);
        CHECK_STR(got_err, "account_number of bank_account is masked to your role and cannot "
                           "be filtered on");
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf(p.role, sizeof p.role, "%s", clear[i]);
        CHECK(run_env(ba, &e, "[\"account_number\",\"starts_with\",\"12\"]") == 0);
    }
}

/* A TZif file with no transitions and only a footer rule, as "slim" files are past their
 * last transition. */
static struct filter_zone *zone_of_rule(const char *rule)
{
    unsigned char buf[256];
    size_t len = 0, rl = strlen(rule);
    static const unsigned char counts[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
    for (int v = 0; v < 2; v++) {
        memcpy(buf + len, "TZif2", 5);
        memset(buf + len + 5, 0, 15);
        memcpy(buf + len + 20, counts, 24);
        len += 44;
        memset(buf + len, 0, 6 + 4); /* one type (UTC), four characters */
        memcpy(buf + len + 6, "UTC", 4);
        len += 10;
    }
    buf[len++] = '\n';
    memcpy(buf + len, rule, rl);
    len += rl;
    buf[len++] = '\n';
    return filter_zone_parse(buf, len);
}

/* Offsets against glibc's own reading of the same zone (TZ set here, single-threaded). */
static int offsets_match(const struct filter_zone *z, const char *tz, int64_t from, int64_t to,
                         int64_t step)
{
    int bad = 0;
    setenv("TZ", tz, 1);
    tzset();
    for (int64_t t = from; t < to; t += step) {
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        if (filter_zone_offset(z, t) != tm.tm_gmtoff) {
            if (bad++ < 3)
                fprintf(stderr, "%s at %lld: %d, glibc %ld\n", tz, (long long)t,
                        filter_zone_offset(z, t), (long)tm.tm_gmtoff);
        }
    }
    return bad;
}

static void test_zones(void)
{
    static const char *const names[] = {
        "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "America/Havana",
        "Asia/Beirut",         "Pacific/Apia",  "Africa/Casablanca",   "Europe/Dublin",
        "America/Nuuk",        "Asia/Kolkata",  "Pacific/Chatham",     "America/Santiago"};
    static const char *const rules[] = {
        "PST8PDT,M3.2.0,M11.1.0",           "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",  "<+0330>-3:30<+0430>,J79/24,J263/24",
        "CET-1CEST,M3.5.0,M10.5.0/3",       "<+13>-13"};
    const int64_t y1900 = -2208988800LL, y2100 = 4102444800LL;
    const struct filter_zone *la = filter_zone_load("America/Los_Angeles");
    struct filter_zone *z;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    CHECK(la != NULL);
    CHECK(filter_zone_load("America/Los_Angeles") == la); /* cached */
    CHECK(filter_zone_offset(la, 1710064799) == -8 * 3600);
    CHECK(filter_zone_offset(la, 1710064800) == -7 * 3600);
    CHECK(filter_zone_day_start(la, value_days_from_civil(2024, 5, 15)) == 1715756400);
    CHECK(filter_zone_day_start(NULL, value_days_from_civil(2024, 5, 15)) == 1715731200);
    CHECK(filter_zone_offset(NULL, 1715731200) == 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct filter_zone *zz = filter_zone_load(names[i]);
        CHECK(zz != NULL);
        if (zz)
            CHECK(offsets_match(zz, names[i], y1900, y2100, 3 * 3600 + 17) == 0);
    }
    /* Footer rules alone (slim files), against glibc reading the same POSIX TZ string. */
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        z = zone_of_rule(rules[i]);
        CHECK(z != NULL);
        if (z)
            CHECK(offsets_match(z, rules[i], 0, y2100, 3600 + 13) == 0);
        filter_zone_free(z);
    }
    /* No dates: the POSIX default, the US rules (glibc reads its "posixrules" file). */
    z = zone_of_rule("XST5XDT");
    CHECK(z != NULL);
    if (z)
        CHECK(offsets_match(z, "XST5XDT,M3.2.0,M11.1.0", 0, y2100, 3600 + 13) == 0);
    filter_zone_free(z);
    /* DST all year (RFC 8536 §3.3.1), also at the turn of the year, where glibc differs. */
    z = zone_of_rule("EST5EDT,0/0,J365/25");
    CHECK(z != NULL);
    if (z) {
        int bad = 0;
        for (int64_t t = 0; t < y2100; t += 1800 + 7)
            bad += filter_zone_offset(z, t) != -4 * 3600;
        CHECK(bad == 0);
    }
    filter_zone_free(z);
    /* The day start is the earliest instant of that local day, also over gaps. */
    {
        const struct filter_zone *havana = filter_zone_load("America/Havana");
        const struct filter_zone *apia = filter_zone_load("Pacific/Apia");
        int bad = 0;
        for (int64_t d = 0; d < 30000; d++) {
            int64_t s = filter_zone_day_start(havana, d);
            int64_t ld = (s + filter_zone_offset(havana, s)) / 86400;
            int64_t lp = (s - 1 + filter_zone_offset(havana, s - 1) + 86400 * 10) / 86400 - 10;
            bad += ld != d || lp != d - 1;
        }
        CHECK(bad == 0);
        /* Samoa skipped 2011-12-30: that day "starts" where the 31st does. */
        CHECK(filter_zone_day_start(apia, value_days_from_civil(2011, 12, 30)) ==
              filter_zone_day_start(apia, value_days_from_civil(2011, 12, 31)));
    }
    /* Refusals: bad names, missing zones, malformed or truncated files. */
    CHECK(filter_zone_load("../../etc/passwd") == NULL);
    CHECK(filter_zone_load("/etc/localtime") == NULL);
    CHECK(filter_zone_load("Nowhere/Nothing") == NULL);
    CHECK(filter_zone_load("") == NULL);
    CHECK(filter_zone_load(NULL) == NULL);
    CHECK(filter_zone_parse((const unsigned char *)"TZif2", 5) == NULL);
    CHECK(filter_zone_parse(NULL, 0) == NULL);
    {
        FILE *fp = fopen("/usr/share/zoneinfo/America/Los_Angeles", "rb");
        static unsigned char buf[65536];
        size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
        int bad = 0;
        if (fp)
            fclose(fp);
        CHECK(n > 1000);
        for (size_t cut = 0; cut + 1 < n; cut += 7) {
            z = filter_zone_parse(buf, cut);
            /* A cut inside the footer keeps the transitions and drops the rule. */
            bad += z != NULL && cut < n - 30;
            filter_zone_free(z);
        }
        CHECK(bad == 0);
        z = filter_zone_parse(buf, n);
        CHECK(z != NULL);
        filter_zone_free(z);
        buf[60] ^= 0x80; /* a transition out of order */
        z = filter_zone_parse(buf, n);
        filter_zone_free(z);
    }
    z = zone_of_rule("garbage");
    CHECK(z != NULL); /* the transitions (none) still work, without a rule: UTC */
    if (z)
        CHECK(filter_zone_offset(z, 1715731200) == 0);
    filter_zone_free(z);
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
}

/* The same operators on SQLite rows, with grantd_fold registered. */
static const char *ids_env(const struct filter_env *e, const char *json)
{
    static char out[512];
    struct sql q;
    struct store_stmt *st = NULL;
    size_t len = 0;
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);

    out[0] = 0;
    sql_init(&q);
    sql_append(&q, "SELECT t.\"id\" FROM \"ut_grant\" t WHERE ");
    if (!j || filter_compile(G, j, "t", e, &q, got_err, sizeof got_err) < 0) {
        snprintf(out, sizeof out, "error: %s", got_err);
        goto out;
    }
    sql_append(&q, " ORDER BY t.\"id\"");
    if (store_prepare_sql(db, &q, &st) != STORE_OK) {
        snprintf(out, sizeof out, "sqlite: %s", store_errmsg(db));
        goto out;
    }
    while (store_step(st) == STORE_ROW && len < sizeof out - 24)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                                (long long)store_col_int(st, 0));
out:
    store_finalize(st);
    sql_release(&q);
    json_decref(j);
    return out;
}

static void test_sqlite_issue3(void)
{
    const char *schema =
        "CREATE TABLE ut_grant (id INTEGER PRIMARY KEY, name TEXT, description TEXT,"
        " amount_requested INTEGER, fx_rate INTEGER, score REAL, active INTEGER, fx_date TEXT,"
        " grant_begins_at INTEGER, created_at INTEGER, deleted_at INTEGER, program_id INTEGER,"
        " created_by_id INTEGER, password_digest TEXT, state TEXT);"
        "INSERT INTO ut_grant (id, name, fx_date, grant_begins_at, created_at) VALUES"
        " (1, 'STRASSE 5', '2024-05-13', 1715644800, 1715670000)," /* 05-14 00:00Z; LA 14 */
        " (2, 'Straße', '2024-05-19', 1715731200, 1715669999),"    /* 05-15 00:00Z; LA 13 */
        " (3, '\xc3\x89"
        "cole', '2024-05-20', 1715644799, 1715756399)," /* LA 14 23:59:59 */
        " (4, 'E\xcc\x81"
        "COLE 100%', '2024-05-12', NULL, 1715756400)," /* LA 15 */
        " (5, NULL, NULL, NULL, NULL),"
        " (6, 'ecole_x', '2024-02-29', 1709164800, 1709193600)," /* leap day */
        " (7, '\xc4\xb0stanbul', '2024-06-30', 1719705600, 1719817199);";
    struct filter_env la = env_at(NOW_UTC_WED, 1, 7, "America/Los_Angeles");
    struct filter_env utc = env_at(NOW_UTC_WED, 1, 7, NULL);

    db = store_conn_open(":memory:", STORE_CREATE, NULL, 0);
    CHECK(db != NULL);
    CHECK(store_exec(db, schema, NULL, 0) == STORE_OK);
    /* Folding: ß = ss, É (composed or not) = é, accents kept, NULLs. */
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"strasse\"]"), "1,2");
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"STRAßE\"]"), "1,2");
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"\\u00e9cole\"]"), "3,4");
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"ecole\"]"), "6");
    CHECK_STR(ids_env(&la, "[\"name\",\"starts_with\",\"str\"]"), "1,2");
    CHECK_STR(ids_env(&la, "[\"name\",\"starts_with\",\"5\"]"), "");
    CHECK_STR(ids_env(&la, "[\"name\",\"not-starts_with\",\"str\"]"), "3,4,5,6,7");
    CHECK_STR(ids_env(&la, "[\"name\",\"like\",\"%cole\"]"), "3");
    CHECK_STR(ids_env(&la, "[\"name\",\"like\",\"_cole%\"]"), "3,4,6");
    CHECK_STR(ids_env(&la, "[\"name\",\"like\",\"%100\\\\%\"]"), "4");
    CHECK_STR(ids_env(&la, "[\"name\",\"like\",\"ecole\\\\_%\"]"), "6");
    CHECK_STR(ids_env(&la, "[\"name\",\"like\",\"ecole_%\"]"), "6");
    CHECK_STR(ids_env(&la, "[\"name\",\"not-like\",\"%cole%\"]"), "1,2,5,7");
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"i\\u0307stanbul\"]"), "7");
    CHECK_STR(ids_env(&la, "[\"name\",\"contains\",\"%\"]"), "4");
    /* Dates: the site's today is the 14th in LA, the 15th in UTC. */
    CHECK_STR(ids_env(&la, "[\"created_at\",\"today\",\"-\"]"), "1,3");
    CHECK_STR(ids_env(&utc, "[\"created_at\",\"today\",\"-\"]"), "3,4");
    CHECK_STR(ids_env(&la, "[\"created_at\",\"yesterday\",\"-\"]"), "2");
    CHECK_STR(ids_env(&la, "[\"created_at\",\"tomorrow\",\"-\"]"), "4");
    CHECK_STR(ids_env(&la, "[\"grant_begins_at\",\"today\",\"-\"]"), "1");
    CHECK_STR(ids_env(&utc, "[\"grant_begins_at\",\"today\",\"-\"]"), "2");
    CHECK_STR(ids_env(&la, "[\"grant_begins_at\",\"yesterday\",\"-\"]"), "3");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"this-week\",\"-\"]"), "1,2");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"last-week\",\"-\"]"), "4");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"next-week\",\"-\"]"), "3");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"months-n-ago\",3]"), "6");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"this-fiscal\",\"-\"]"), "1,2,3,4,6,7");
    CHECK_STR(ids_env(&la, "[\"created_at\",\"this-fiscal\",\"-\"]"), "1,2,3,4,6,7");
    CHECK_STR(ids_env(&la, "[\"grant_begins_at\",\"this-fiscal-quarter\",\"-\"]"), "1,2,3,7");
    CHECK_STR(ids_env(&la, "[\"grant_begins_at\",\"last-fiscal-quarter\",\"-\"]"), "6");
    CHECK_STR(ids_env(&la, "[\"fx_date\",\"range-year-fiscal\",\"2025\"]"), "");
    CHECK_STR(ids_env(&la, "{\"group_type\":\"not-and\",\"conditions\":"
                           "[[\"fx_date\",\"this-month\",\"-\"]]}"),
              "5,6,7");
    store_conn_close(db);
    db = NULL;
}

int main(void)
{
    test_groups();
    test_basic_forms();
    test_types();
    test_null_range();
    test_has_many();
    test_errors();
    test_bounds();
    test_sqlite();
    test_periods_dates();
    test_periods_times();
    test_period_errors();
    test_text_ops();
    test_cross_class();
    test_scope();
    test_masked_fields();
    test_zones();
    test_sqlite_issue3();
    return unit_done();
}
