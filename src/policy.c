/* The authorization policy: one table of roles, the registry's per-class scopes and
 * per-field flags, and the SQL pieces that carry a scope into every query (lists, fetches,
 * relation expansions, id arrays, aggregations, cross-class filters, writes). It decides;
 * it runs no statement and answers no request. */
#include "policy.h"

#include <stdio.h>
#include <string.h>

/* The whole role model of contract §8. Ranks order the rows; docs/security.md shows the
 * same table. */
const struct policy_role policy_roles[] = {
    {"grantee", RANK_GRANTEE, READS_SCOPED, WRITES_STAFF, 0, 0, 1, 0, 0, 0, 0,
     "records of its own organizations only; writes them without state, amounts, re-pointed "
     "references or authorship"},
    {"developer", RANK_DEVELOPER, READS_ALL, WRITES_NONE, 0, 0, 0, 1, 1, 0, 1,
     "reads everything (bank numbers masked), writes nothing; documentation"},
    {"employee", RANK_EMPLOYEE, READS_ALL, WRITES_STAFF, 0, 0, 0, 1, 0, 0, 0,
     "reads everything (bank numbers masked); writes grant, payment, report, organization and "
     "people records"},
    {"super_user", RANK_SUPER_USER, READS_ALL, WRITES_ALL_BUT_ADMIN, 1, 0, 0, 1, 1, 1, 1,
     "reads and writes everything but site-defined fields and roles"},
    {"admin", RANK_ADMIN, READS_ALL, WRITES_ALL, 1, 1, 0, 1, 1, 1, 1, "everything"},
};
const int policy_nroles = (int)(sizeof policy_roles / sizeof policy_roles[0]);

static const struct policy_role no_role = {
    "(unknown)", RANK_NONE, READS_NONE, WRITES_NONE, 0, 0, 1, 0, 0, 0, 0, "nothing"};

const struct policy_role *policy_role_named(const char *role)
{
    for (int i = 0; role && i < policy_nroles; i++)
        if (strcmp(policy_roles[i].name, role) == 0)
            return &policy_roles[i];
    return NULL;
}

const struct policy_role *policy_role(const struct principal *p)
{
    const struct policy_role *r = policy_role_named(p->role);
    return r ? r : &no_role;
}

enum policy_rank policy_rank(const char *role)
{
    const struct policy_role *r = policy_role_named(role);
    return r ? r->rank : RANK_NONE;
}

/* ---- records ---- */

int policy_scoped(const struct principal *p, const struct class_def *k)
{
    const struct policy_role *r = policy_role(p);
    if (r->reads == READS_ALL)
        return 0;
    return r->reads == READS_NONE || k->scope != SCOPE_ALL;
}

static void orgs_of_user(const struct principal *p, struct sql *q)
{
    sql_append(q, "(SELECT uo.\"organization_id\" FROM \"user_organization\" uo WHERE "
                  "uo.\"user_id\" = ");
    sql_bind_int(q, p->user_id);
    sql_append(q, " AND uo.\"deleted_at\" IS NULL)");
}

static void grants_of_user(const struct principal *p, struct sql *q)
{
    sql_append(q, "(SELECT g.\"id\" FROM \"grant_request\" g WHERE g.\"program_organization_id\" "
                  "IN ");
    orgs_of_user(p, q);
    sql_append(q, " OR g.\"fiscal_organization_id\" IN ");
    orgs_of_user(p, q);
    sql_append(q, ")");
}

void policy_scope(const struct principal *p, const struct class_def *k, const char *alias,
                  struct sql *q)
{
    const struct policy_role *r = policy_role(p);
    if (r->reads == READS_ALL)
        return;
    sql_append(q, " AND ");
    if (r->reads == READS_NONE) {
        sql_append(q, sql_dialect->no);
        return;
    }
    switch (k->scope) {
    case SCOPE_ALL:
        sql_append(q, sql_dialect->yes);
        break;
    case SCOPE_ORG:
        sql_appendf(q, "%s.\"id\" IN ", alias);
        orgs_of_user(p, q);
        break;
    case SCOPE_GRANT:
        sql_appendf(q, "(%s.\"program_organization_id\" IN ", alias);
        orgs_of_user(p, q);
        sql_appendf(q, " OR %s.\"fiscal_organization_id\" IN ", alias);
        orgs_of_user(p, q);
        sql_append(q, ")");
        break;
    case SCOPE_VIA_GRANT:
        sql_appendf(q, "%s.", alias);
        sql_ident(q, k->scope_col);
        sql_append(q, " IN ");
        grants_of_user(p, q);
        break;
    case SCOPE_VIA_ORG:
        sql_appendf(q, "%s.", alias);
        sql_ident(q, k->scope_col);
        sql_append(q, " IN ");
        orgs_of_user(p, q);
        break;
    case SCOPE_USER:
        sql_appendf(q, "(%s.\"id\" = ", alias);
        sql_bind_int(q, p->user_id);
        sql_appendf(q,
                    " OR %s.\"id\" IN (SELECT u2.\"user_id\" FROM \"user_organization\" u2 "
                    "WHERE u2.\"deleted_at\" IS NULL AND u2.\"organization_id\" IN ",
                    alias);
        orgs_of_user(p, q);
        sql_append(q, "))");
        break;
    case SCOPE_DOC:
        sql_appendf(q, "((%s.\"documentable_type\" = 'GrantRequest' AND %s.\"documentable_id\" IN ",
                    alias, alias);
        grants_of_user(p, q);
        sql_appendf(q,
                    ") OR (%s.\"documentable_type\" = 'Organization' AND "
                    "%s.\"documentable_id\" IN ",
                    alias, alias);
        orgs_of_user(p, q);
        sql_append(q, "))");
        break;
    default:
        sql_append(q, sql_dialect->no);
    }
}

void policy_write_scope(const struct principal *p, const struct class_def *k, const char *alias,
                        struct sql *q)
{
    policy_scope(p, k, alias, q);
    if (strcmp(k->name, "user") != 0)
        return;
    /* Users of a rank above p's are outside what p may act on; a user without a role is
     * a grantee (auth.c reads it so). */
    enum policy_rank mine = policy_role(p)->rank;
    sql_appendf(q, " AND COALESCE(%s.\"role\", 'grantee') IN (", alias);
    int n = 0;
    for (int i = 0; i < policy_nroles; i++) {
        if (policy_roles[i].rank > mine)
            continue;
        if (n++)
            sql_append(q, ", ");
        sql_bind_text(q, policy_roles[i].name, strlen(policy_roles[i].name));
    }
    if (!n)
        sql_append(q, "NULL");
    sql_append(q, ")");
}

/* ---- fields ---- */

enum policy_field policy_field(const struct principal *p, const struct field *f)
{
    if (f->flags & FF_SECRET)
        return PF_HIDDEN;
    /* A computed member that reads another class's record (an organization's name) could
     * show a record outside a scoped role's part: hidden from it. */
    if ((f->flags & FF_CROSS) && policy_role(p)->reads != READS_ALL)
        return PF_HIDDEN;
    if ((f->flags & FF_MASKED) && !policy_role(p)->unmask)
        return PF_MASKED;
    return PF_VISIBLE;
}

int policy_field_usable(const struct principal *p, const struct field *f)
{
    return policy_field(p, f) == PF_VISIBLE;
}

size_t policy_mask(const char *s, size_t n, char *out)
{
    memcpy(out, "****", 4);
    if (n > 4) {
        memcpy(out + 4, s + n - 4, 4);
        out[8] = 0;
        return 8;
    }
    out[4] = 0;
    return 4;
}

/* ---- writes ---- */

int policy_may_write_class(const struct principal *p, const struct class_def *k, char *why,
                           size_t whylen)
{
    const struct policy_role *r = policy_role(p);
    int ok;
    if (p->read_only) {
        snprintf(why, whylen, "a read-only client may not write %s", k->name);
        return 0;
    }
    if (k->flags & CF_READONLY) {
        snprintf(why, whylen, "%s is read-only through the API", k->name);
        return 0;
    }
    switch (r->writes) {
    case WRITES_ALL:
        ok = 1;
        break;
    case WRITES_ALL_BUT_ADMIN:
        ok = !(k->flags & CF_ADMIN_WRITE);
        break;
    case WRITES_STAFF:
        ok = (k->flags & CF_STAFF_WRITE) != 0;
        break;
    default:
        ok = 0;
    }
    if (!ok)
        snprintf(why, whylen, "%s may not write %s", r->name, k->name);
    return ok;
}

int policy_may_set_field(const struct principal *p, const struct class_def *k,
                         const struct field *f, int is_create, char *why, size_t whylen)
{
    const struct policy_role *r = policy_role(p);
    (void)k;
    if ((f->flags & FF_ADMINSET) && !r->admin_set) {
        snprintf(why, whylen, "only an admin may set %s", f->name);
        return 0;
    }
    /* A limited role (grantee) never writes state, amounts or authorship, and sets a
     * reference only when it creates the record (never re-points one). */
    if (r->limited && (f->flags & FF_GRANTEE_RO) && (!is_create || f->type != FT_REF)) {
        snprintf(why, whylen, "a %s may not set %s", r->name, f->name);
        return 0;
    }
    return 1;
}

int policy_membership_ref(const struct class_def *k, const struct field *f)
{
    static const struct {
        const char *cls, *field;
    } rows[] = {
        {"user_organization", "user_id"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(k->name, rows[i].cls) == 0 && strcmp(f->name, rows[i].field) == 0)
            return 1;
    return 0;
}

int policy_may_give_role(const struct principal *p, const char *role)
{
    enum policy_rank want = policy_rank(role);
    return want != RANK_NONE && want <= policy_role(p)->rank;
}
