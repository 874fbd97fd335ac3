/* The authorization policy's table (src/policy.c) row by row: what each role reads and
 * writes, how fields show, the SQL scope pieces, the rank rules. docs/security.md prints
 * the same table. */
#include "policy.h"
#include "unit.h"

#include <stdio.h>

static struct principal who(const char *role)
{
    struct principal p = {.user_id = 7};
    snprintf(p.role, sizeof p.role, "%s", role);
    return p;
}

static const struct class_def *cls(const char *name)
{
    return registry_class(name, strlen(name));
}

static void test_ranks(void)
{
    CHECK(policy_rank("admin") > policy_rank("super_user"));
    CHECK(policy_rank("super_user") > policy_rank("employee"));
    CHECK(policy_rank("employee") > policy_rank("developer"));
    CHECK(policy_rank("developer") > policy_rank("grantee"));
    CHECK(policy_rank("grantee") > policy_rank("root"));
    CHECK(policy_role_named("root") == NULL);
    struct principal p = who("root");
    CHECK(policy_role(&p)->reads == READS_NONE && policy_role(&p)->writes == WRITES_NONE);
    for (int i = 0; i < policy_nroles; i++) { /* the table is in rank order */
        CHECK(policy_roles[i].rank == (enum policy_rank)i);
        struct principal q = who(policy_roles[i].name);
        for (int j = 0; j < policy_nroles; j++)
            CHECK(policy_may_give_role(&q, policy_roles[j].name) == (j <= i));
        CHECK(!policy_may_give_role(&q, "root"));
    }
    /* the change feed shows every class's changes: developers (integrations), super users
     * and admins; never a role whose reads are scoped */
    static const char *const feed_roles[] = {"developer", "super_user", "admin"};
    for (int i = 0; i < policy_nroles; i++) {
        int want = 0;
        for (size_t j = 0; j < sizeof feed_roles / sizeof feed_roles[0]; j++)
            want |= strcmp(policy_roles[i].name, feed_roles[j]) == 0;
        CHECK(policy_roles[i].changes == want);
        CHECK(!policy_roles[i].changes || policy_roles[i].reads == READS_ALL);
    }
    CHECK(!policy_role(&p)->changes);
}

static void test_class_writes(void)
{
    static const struct {
        const char *cls;
        int want[5]; /* grantee developer employee super_user admin */
    } rows[] = {
        {"grant_request", {1, 0, 1, 1, 1}},
        {"organization", {1, 0, 1, 1, 1}},
        {"program", {0, 0, 0, 1, 1}},
        {"model_attribute", {0, 0, 0, 0, 1}},
        {"workflow_event", {0, 0, 0, 0, 0}},
        {"user", {1, 0, 1, 1, 1}},
        {"request_transaction", {1, 0, 1, 1, 1}},
    };
    char why[160];
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (int i = 0; i < policy_nroles; i++) {
            struct principal p = who(policy_roles[i].name);
            int got = policy_may_write_class(&p, cls(rows[r].cls), why, sizeof why);
            if (got != rows[r].want[i])
                fprintf(stderr, "%s writing %s: %d\n", p.role, rows[r].cls, got);
            CHECK(got == rows[r].want[i]);
            p.read_only = 1;
            CHECK(!policy_may_write_class(&p, cls(rows[r].cls), why, sizeof why));
        }
}

static void test_fields(void)
{
    const struct class_def *ba = cls("bank_account"), *gr = cls("grant_request");
    const struct field *num = registry_field(ba, "account_number");
    const struct field *name = registry_field(ba, "account_name");
    const struct field *state = registry_field(gr, "state");
    const struct field *org = registry_field(gr, "program_organization_id");
    const struct field *summary = registry_field(gr, "project_summary");
    const struct field *by = registry_field(gr, "created_by_id");
    char why[160];
    for (int i = 0; i < policy_nroles; i++) {
        struct principal p = who(policy_roles[i].name);
        int clear = policy_roles[i].unmask;
        CHECK(policy_field(&p, num) == (clear ? PF_VISIBLE : PF_MASKED));
        CHECK(policy_field_usable(&p, num) == clear);
        CHECK(policy_field(&p, name) == PF_VISIBLE);
        int grantee = p.role[0] == 'g';
        CHECK(policy_may_set_field(&p, gr, state, 1, why, sizeof why) == !grantee);
        CHECK(policy_may_set_field(&p, gr, org, 1, why, sizeof why) == 1);
        CHECK(policy_may_set_field(&p, gr, org, 0, why, sizeof why) == !grantee);
        CHECK(policy_may_set_field(&p, gr, summary, 0, why, sizeof why) == 1);
        CHECK(policy_may_set_field(&p, gr, by, 1, why, sizeof why) ==
              (strcmp(p.role, "admin") == 0));
    }
    char m[9];
    CHECK(policy_mask("DE89370400440532013000", 22, m) == 8);
    CHECK_STR(m, "****3000");
    CHECK(policy_mask("123", 3, m) == 4);
    CHECK_STR(m, "****");
}

static void scope_text(const char *role, const char *cls_name, int write, char *out, size_t n)
{
    struct principal p = who(role);
    struct sql q;
    sql_init(&q);
    if (write)
        policy_write_scope(&p, cls(cls_name), "t", &q);
    else
        policy_scope(&p, cls(cls_name), "t", &q);
    snprintf(out, n, "%s|%d", q.buf ? q.buf : "", q.nargs);
    sql_release(&q);
}

static void test_scopes(void)
{
    char s[2048];
    scope_text("admin", "grant_request", 0, s, sizeof s);
    CHECK_STR(s, "|0");
    scope_text("developer", "user", 0, s, sizeof s);
    CHECK_STR(s, "|0");
    scope_text("root", "geo_country", 0, s, sizeof s);
    CHECK_STR(s, " AND 0|0");
    scope_text("grantee", "geo_country", 0, s, sizeof s);
    CHECK_STR(s, " AND 1|0");
    scope_text("grantee", "program", 0, s, sizeof s);
    CHECK_STR(s, " AND 0|0");
    scope_text("grantee", "workflow_event", 0, s, sizeof s);
    CHECK_STR(s, " AND 0|0");
    scope_text("grantee", "organization", 0, s, sizeof s);
    CHECK_STR(s, " AND t.\"id\" IN (SELECT uo.\"organization_id\" FROM \"user_organization\" uo "
                 "WHERE uo.\"user_id\" = ? AND uo.\"deleted_at\" IS NULL)|1");
    scope_text("grantee", "user", 1, s, sizeof s); /* users of its orgs, grantees only */
    CHECK(strstr(s, "COALESCE(t.\"role\", 'grantee') IN (?)|") != NULL);
    scope_text("employee", "user", 1, s, sizeof s);
    CHECK_STR(s, " AND COALESCE(t.\"role\", 'grantee') IN (?, ?, ?)|3");
    scope_text("admin", "user", 1, s, sizeof s);
    CHECK_STR(s, " AND COALESCE(t.\"role\", 'grantee') IN (?, ?, ?, ?, ?)|5");
    scope_text("admin", "organization", 1, s, sizeof s);
    CHECK_STR(s, "|0");
    struct principal g = who("grantee"), a = who("admin");
    CHECK(policy_scoped(&g, cls("grant_request")) && !policy_scoped(&g, cls("geo_city")));
    CHECK(!policy_scoped(&a, cls("grant_request")));
    CHECK(policy_membership_ref(cls("user_organization"),
                                registry_field(cls("user_organization"), "user_id")));
    CHECK(!policy_membership_ref(cls("user_organization"),
                                 registry_field(cls("user_organization"), "organization_id")));
    CHECK(!policy_membership_ref(cls("grant_request"),
                                 registry_field(cls("grant_request"), "program_lead_id")));
}

int main(void)
{
    test_ranks();
    test_class_writes();
    test_fields();
    test_scopes();
    return unit_done();
}
