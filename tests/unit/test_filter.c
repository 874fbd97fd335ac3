/* Unit tests for src/filter.c: exact SQL text and bound values for every form, operator
 * and field type, every error message, and a run of compiled filters on an in-memory
 * SQLite table for the NULL semantics. Uses its own small classes; built with
 * -DUNIT_STANDALONE they are also the registry (for plural relations), otherwise the real
 * registry of src/models/classes.c is linked and those cases check the refusal instead. */
#include "filter.h"
#include "sql.h"
#include "unit.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

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
static sqlite3 *db;

static const char *ids(const char *json)
{
    static char out[512];
    struct sql q;
    sqlite3_stmt *st = NULL;
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
    if (sql_prepare(db, &q, &st) != SQLITE_OK) {
        snprintf(out, sizeof out, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW && len < sizeof out - 24)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                                (long long)sqlite3_column_int64(st, 0));
out:
    sqlite3_finalize(st);
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

    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK);
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
    sqlite3_close(db);
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
    return unit_done();
}
