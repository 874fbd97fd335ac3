/* Unit tests for the demo-data generator: it runs against a hand-written schema (a subset
 * of the real columns, one table missing, one extra column) so it does not depend on the
 * migrations. Checks counts, workflow-state coverage, money consistency, determinism (a
 * hash of a dump of several tables) and refusal of an already seeded database. */
#include "store.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "seed.h"
#include "unit.h"

#define TODAY 1767225600 /* 2026-01-01T00:00:00Z */

#define STD                                                                                        \
    "id INTEGER PRIMARY KEY, created_at INTEGER, updated_at INTEGER, "                             \
    "deleted_at INTEGER, created_by_id INTEGER, updated_by_id INTEGER"

/* No `initiative` table and no grant_request.initiative_id: the seed must skip both. */
static const char *const schema[] = {
    "CREATE TABLE \"user\" (" STD ", first_name TEXT, last_name TEXT, email TEXT, "
    "login TEXT UNIQUE, role TEXT, state TEXT, primary_organization_id INTEGER, "
    "primary_user_organization_id INTEGER, "
    "work_phone TEXT, password_hash TEXT)",
    "CREATE TABLE geo_country (" STD ", name TEXT, iso2 TEXT, iso3 TEXT)",
    "CREATE TABLE geo_state (" STD ", name TEXT, abbreviation TEXT, geo_country_id INTEGER)",
    "CREATE TABLE geo_city (" STD ", name TEXT, geo_state_id INTEGER, geo_country_id INTEGER)",
    "CREATE TABLE program (" STD ", name TEXT, description TEXT, retired INTEGER)",
    "CREATE TABLE sub_program (" STD ", name TEXT, program_id INTEGER)",
    "CREATE TABLE fund (" STD ", name TEXT, balance INTEGER, state TEXT)",
    "CREATE TABLE funding_source (" STD ", name TEXT, amount INTEGER, start_at INTEGER, "
    "end_at INTEGER, state TEXT)",
    "CREATE TABLE organization (" STD ", name TEXT, acronym TEXT, street_address TEXT, "
    "street_address2 TEXT, city TEXT, postal_code TEXT, geo_state_id INTEGER, "
    "geo_country_id INTEGER, phone TEXT, url TEXT, state TEXT, primary_user_id INTEGER, "
    "primary_user_organization_id INTEGER)",
    "CREATE TABLE user_organization (" STD ", user_id INTEGER, organization_id INTEGER, "
    "title TEXT)",
    "CREATE TABLE grant_request (" STD ", base_request_id TEXT, state TEXT, granted INTEGER, "
    "project_summary TEXT, amount_requested INTEGER, amount_recommended INTEGER, "
    "request_received_at INTEGER, grant_begins_at INTEGER, duration_in_months INTEGER, "
    "grant_closed_at INTEGER, program_organization_id INTEGER, fiscal_organization_id "
    "INTEGER, program_id INTEGER, sub_program_id INTEGER, program_lead_id INTEGER, "
    "unrelated_column TEXT)",
    "CREATE TABLE request_transaction (" STD ", request_id INTEGER, amount_due INTEGER, "
    "amount_paid INTEGER, due_at INTEGER, paid_at INTEGER, state TEXT, payment_type TEXT, "
    "organization_payee_id INTEGER)",
    "CREATE TABLE request_report (" STD ", request_id INTEGER, report_type TEXT, "
    "due_at INTEGER, state TEXT)",
    "CREATE TABLE workflow_event (" STD ", workflowable_type TEXT, workflowable_id INTEGER, "
    "old_state TEXT, new_state TEXT, grant_request_id INTEGER)",
    /* indexes are dropped for the load and rebuilt; a trigger keeps firing per row */
    "CREATE INDEX grant_request__state ON grant_request(state)",
    "CREATE INDEX grant_request__partial ON grant_request(fiscal_organization_id) "
    "WHERE fiscal_organization_id IS NOT NULL",
    "CREATE INDEX request_transaction__request_id ON request_transaction(request_id)",
    "CREATE TABLE summary_words (id INTEGER PRIMARY KEY, body TEXT)",
    "CREATE TRIGGER grant_request__ai AFTER INSERT ON grant_request BEGIN "
    "INSERT INTO summary_words(id, body) VALUES (new.id, new.project_summary); END",
    "CREATE TABLE note (" STD ", notable_type TEXT, notable_id INTEGER, note TEXT)",
};

static struct store_conn *open_db(void)
{
    struct store_conn *db = store_conn_open(":memory:", STORE_CREATE, NULL, 0);
    char msg[256];

    if (!db)
        return NULL;
    for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
        if (store_exec(db, schema[i], msg, sizeof msg) != 0)
            fprintf(stderr, "schema: %s\n", msg);
    return db;
}

static long long q1(struct store_conn *db, const char *sql)
{
    struct store_stmt *st = NULL;
    long long v = -1;

    if (store_prepare(db, sql, STORE_NUL, 0, &st) != STORE_OK) {
        fprintf(stderr, "%s: %s\n", sql, store_errmsg(db));
        return -1;
    }
    if (store_step(st) == STORE_ROW)
        v = store_col_int(st, 0);
    store_finalize(st);
    return v;
}

/* The first column of the first row as text (static buffer). */
static const char *qs(struct store_conn *db, const char *sql)
{
    static char out[256];
    struct store_stmt *st = NULL;

    out[0] = '\0';
    if (store_prepare(db, sql, STORE_NUL, 0, &st) == STORE_OK && store_step(st) == STORE_ROW &&
        store_col_text(st, 0))
        snprintf(out, sizeof(out), "%s", (const char *)store_col_text(st, 0));
    store_finalize(st);
    return out;
}

/* FNV-1a over every value of the tables, in id order. */
static uint64_t dump_hash(struct store_conn *db)
{
    static const char *const tables[] = {
        "user", "organization", "grant_request", "request_transaction", "request_report", "note"};
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        char sql[128];
        struct store_stmt *st = NULL;

        snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY id", tables[t]);
        if (store_prepare(db, sql, STORE_NUL, 0, &st) != STORE_OK)
            return 0;
        while (store_step(st) == STORE_ROW) {
            for (int c = 0; c < store_columns(st); c++) {
                const unsigned char *v = (const unsigned char *)store_col_text(st, c);
                int n = store_col_bytes(st, c);

                h = (h ^ (uint64_t)store_col_type(st, c)) * 0x100000001b3ULL;
                for (int i = 0; v && i < n; i++)
                    h = (h ^ v[i]) * 0x100000001b3ULL;
                h = (h ^ 0xff) * 0x100000001b3ULL;
            }
        }
        store_finalize(st);
    }
    return h;
}

static int seed(struct store_conn *db, long grants, unsigned long long rs, char *err, size_t errlen)
{
    struct seed_opts o = {.grants = grants, .random_seed = rs, .progress = 0, .today = TODAY};

    return seed_run(db, &o, err, errlen);
}

static void test_counts(void)
{
    struct store_conn *db = open_db();
    char err[256] = "";
    static const char *const states[] = {"new",
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
    long long granted;

    CHECK(seed(db, 1000, 42, err, sizeof(err)) == 0);
    CHECK_STR(err, "");
    CHECK(q1(db, "SELECT count(*) FROM grant_request") == 1000);
    granted = q1(db, "SELECT count(*) FROM grant_request WHERE granted = 1");
    CHECK(granted > 300 && granted < 900);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE granted = 1 AND state NOT IN "
                 "('granted','closed')") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE granted = 0 AND state IN "
                 "('granted','closed')") == 0);
    CHECK(q1(db, "SELECT count(*) FROM request_transaction") == 2 * granted);
    CHECK(q1(db, "SELECT count(*) FROM request_report") == granted);
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        char sql[160];

        snprintf(sql, sizeof(sql), "SELECT count(*) FROM grant_request WHERE state = '%s'",
                 states[i]);
        if (q1(db, sql) < 1)
            fprintf(stderr, "no grant_request in state %s\n", states[i]);
        CHECK(q1(db, sql) >= 1);
    }
    CHECK(q1(db, "SELECT count(DISTINCT state) FROM request_transaction") == 4);
    CHECK(q1(db, "SELECT count(DISTINCT state) FROM request_report") >= 5);
    /* payments add up to the recommendation, paid ones are fully paid */
    CHECK(q1(db, "SELECT count(*) FROM grant_request g WHERE granted = 1 AND "
                 "amount_recommended != (SELECT sum(amount_due) FROM request_transaction t "
                 "WHERE t.request_id = g.id)") == 0);
    CHECK(q1(db, "SELECT count(*) FROM request_transaction WHERE (state = 'paid') != "
                 "(paid_at IS NOT NULL AND amount_paid = amount_due)") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE amount_requested % 10000 != 0") > 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE amount_requested % 100 != 0") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE state = 'closed' AND "
                 "grant_closed_at IS NULL") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE grant_begins_at % 86400 != 0") == 0);
    CHECK(q1(db, "SELECT max(request_received_at) FROM grant_request") <= TODAY);
    CHECK(q1(db, "SELECT min(request_received_at) FROM grant_request") >=
          TODAY - 6 * 366 * 86400LL);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE base_request_id NOT GLOB "
                 "'R-20[0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]'") == 0);
    CHECK(q1(db, "SELECT count(DISTINCT base_request_id) FROM grant_request") == 1000);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE fiscal_organization_id IS NOT "
                 "NULL") > 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request g JOIN sub_program s ON s.id = "
                 "g.sub_program_id WHERE s.program_id != g.program_id") == 0);
    /* reference data and people */
    CHECK(q1(db, "SELECT count(*) FROM organization") >= 3);
    CHECK(q1(db, "SELECT count(*) FROM organization WHERE state = 'approved'") >= 3);
    CHECK(q1(db, "SELECT count(*) FROM program") == 6);
    CHECK(q1(db, "SELECT count(*) FROM sub_program") == 18);
    CHECK(q1(db, "SELECT count(*) FROM geo_country") >= 12);
    CHECK(q1(db, "SELECT count(*) FROM geo_country WHERE iso2 = 'US'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM geo_state g JOIN geo_country c ON c.id = "
                 "g.geo_country_id WHERE c.iso2 = 'US'") == 51);
    CHECK(q1(db, "SELECT count(*) FROM \"user\" WHERE role = 'employee'") >= 7);
    CHECK(q1(db, "SELECT count(*) FROM \"user\" WHERE role NOT IN ('employee','grantee')") == 0);
    CHECK(q1(db, "SELECT count(*) FROM \"user\" WHERE role = 'grantee'") ==
          q1(db, "SELECT count(*) FROM user_organization"));
    CHECK(q1(db, "SELECT count(*) FROM organization o WHERE NOT EXISTS (SELECT 1 FROM "
                 "user_organization u WHERE u.organization_id = o.id)") == 0);
    /* the primary contact's links point at the right rows */
    CHECK(q1(db,
             "SELECT count(*) FROM organization o JOIN \"user\" u ON u.id = "
             "o.primary_user_id JOIN user_organization uo ON uo.id = "
             "o.primary_user_organization_id AND uo.id = u.primary_user_organization_id AND "
             "uo.user_id = u.id AND uo.organization_id = o.id AND "
             "u.primary_organization_id = o.id") == q1(db, "SELECT count(*) FROM organization"));
    CHECK(q1(db, "SELECT count(*) FROM \"user\" u JOIN user_organization uo ON uo.id = "
                 "u.primary_user_organization_id AND uo.user_id = u.id") ==
          q1(db, "SELECT count(*) FROM user_organization"));
    CHECK(q1(db, "SELECT count(*) FROM \"user\" WHERE state != 'active' OR email NOT LIKE "
                 "'%@%.example.org' OR password_hash IS NOT NULL") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request g JOIN \"user\" u ON u.id = "
                 "g.program_lead_id WHERE u.role = 'employee'") == 1000);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE unrelated_column IS NOT NULL") == 0);
    /* one workflow event per record with a state, none with an old state */
    CHECK(q1(db, "SELECT count(*) FROM workflow_event WHERE workflowable_type = "
                 "'GrantRequest'") == 1000);
    CHECK(q1(db, "SELECT count(*) FROM workflow_event e JOIN grant_request g ON "
                 "e.workflowable_type = 'GrantRequest' AND e.workflowable_id = g.id AND "
                 "e.new_state = g.state AND e.grant_request_id = g.id") == 1000);
    CHECK(q1(db, "SELECT count(*) FROM workflow_event WHERE workflowable_type = "
                 "'Organization'") == q1(db, "SELECT count(*) FROM organization"));
    CHECK(q1(db, "SELECT count(*) FROM workflow_event WHERE workflowable_type = 'User'") ==
          q1(db, "SELECT count(*) FROM \"user\""));
    CHECK(q1(db, "SELECT count(*) FROM workflow_event WHERE old_state IS NOT NULL") == 0);
    CHECK(q1(db, "SELECT count(*) FROM note") >= 3);
    /* the schema is as it was: indexes back (same SQL), trigger fired for every row */
    CHECK(q1(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                 "('grant_request__state', 'grant_request__partial', "
                 "'request_transaction__request_id')") == 3);
    CHECK(q1(db, "SELECT count(*) FROM sqlite_master WHERE name = 'grant_request__partial' "
                 "AND sql LIKE '%WHERE fiscal_organization_id IS NOT NULL'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM grant_request INDEXED BY grant_request__state WHERE "
                 "state = 'new'") >= 1);
    CHECK_STR(qs(db, "PRAGMA integrity_check"), "ok");
    CHECK(q1(db, "SELECT count(*) FROM summary_words s JOIN grant_request g ON g.id = s.id "
                 "AND g.project_summary = s.body") == 1000);
    CHECK(q1(db, "SELECT count(*) FROM note n WHERE notable_type = 'GrantRequest' AND NOT "
                 "EXISTS (SELECT 1 FROM grant_request g WHERE g.id = n.notable_id)") == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE created_by_id IS NULL") == 0);
    /* a seeded database is not seeded twice, and nothing is half written */
    CHECK(seed(db, 10, 42, err, sizeof(err)) < 0);
    CHECK(strstr(err, "already") != NULL);
    CHECK(q1(db, "SELECT count(*) FROM grant_request") == 1000);
    store_conn_close(db);
}

static void test_determinism(void)
{
    struct store_conn *a = open_db(), *b = open_db(), *c = open_db();
    char err[256];
    uint64_t ha, hb, hc;

    CHECK(seed(a, 300, 7, err, sizeof(err)) == 0);
    CHECK(seed(b, 300, 7, err, sizeof(err)) == 0);
    CHECK(seed(c, 300, 8, err, sizeof(err)) == 0);
    ha = dump_hash(a);
    hb = dump_hash(b);
    hc = dump_hash(c);
    CHECK(ha != 0 && ha == hb);
    CHECK(ha != hc);
    store_conn_close(a);
    store_conn_close(b);
    store_conn_close(c);
}

static void test_small(void)
{
    struct store_conn *db = open_db();
    char err[256];

    CHECK(seed(db, 2, 1, err, sizeof(err)) == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE state = 'new'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM grant_request WHERE state = 'pending'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM organization") >= 3);
    CHECK(q1(db, "SELECT count(*) FROM program") >= 2);
    store_conn_close(db);

    db = open_db();
    CHECK(seed(db, 13, 1, err, sizeof(err)) == 0);
    CHECK(q1(db, "SELECT count(DISTINCT state) FROM grant_request") == 13);
    store_conn_close(db);

    db = open_db();
    CHECK(seed(db, 0, 1, err, sizeof(err)) == 0);
    CHECK(q1(db, "SELECT count(*) FROM grant_request") == 0);
    store_conn_close(db);
}

/* A failure half-way leaves nothing behind: no rows, and the dropped indexes are back. */
static void test_rollback(void)
{
    struct store_conn *db = open_db();
    char err[256] = "";

    CHECK(store_exec(db,
                     "CREATE TRIGGER boom AFTER INSERT ON request_report WHEN new.id = 300 "
                     "BEGIN SELECT RAISE(ABORT, 'boom'); END",
                     NULL, 0) == STORE_OK);
    CHECK(seed(db, 1000, 42, err, sizeof(err)) < 0);
    CHECK(strstr(err, "boom") != NULL);
    CHECK(q1(db, "SELECT count(*) FROM grant_request") == 0);
    CHECK(q1(db, "SELECT count(*) FROM \"user\"") == 0);
    CHECK(q1(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE "
                 "'grant_request__%'") == 2);
    CHECK(!store_in_transaction(db));
    store_conn_close(db);
}

static void test_no_schema(void)
{
    struct store_conn *db = NULL;
    char err[256] = "";

    db = store_conn_open(":memory:", STORE_CREATE, NULL, 0);
    CHECK(db != NULL);
    CHECK(seed(db, 10, 1, err, sizeof(err)) < 0);
    CHECK(strstr(err, "init") != NULL);
    store_conn_close(db);
}

int main(void)
{
    test_counts();
    test_determinism();
    test_small();
    test_rollback();
    test_no_schema();
    return unit_done();
}
