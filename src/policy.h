/* The authorization policy (contract §8, design.md "Authorization, one place"): for each
 * role, which records of a class are visible (a scope predicate the query builders add),
 * which fields are visible, masked or hidden, which classes and fields may be written, and
 * which references a write may set. Every reader and writer asks here; no handler decides
 * visibility itself. The rules are rows of tables (policy_roles, the registry's class
 * scopes and field flags); docs/security.md prints the same table for a security review.
 * It builds SQL pieces but runs no statement. */
#ifndef GRANTD_POLICY_H
#define GRANTD_POLICY_H

#include "auth.h"
#include "registry.h"
#include "sql.h"

#include <stddef.h>

/* Roles are ordered for acting on users: nobody changes, deactivates or deletes a user of
 * a higher rank, nor gives a role above their own. */
enum policy_rank {
    RANK_NONE = -1, /* unknown role: reads and writes nothing */
    RANK_GRANTEE,
    RANK_DEVELOPER,
    RANK_EMPLOYEE,
    RANK_SUPER_USER,
    RANK_ADMIN,
};

enum policy_reads {
    READS_NONE,   /* no record of any class */
    READS_SCOPED, /* the records of the user's organizations (registry scope per class) */
    READS_ALL,
};

enum policy_writes {
    WRITES_NONE,
    WRITES_STAFF,         /* classes flagged CF_STAFF_WRITE */
    WRITES_ALL_BUT_ADMIN, /* every writable class but CF_ADMIN_WRITE ones (model_attribute) */
    WRITES_ALL,
};

struct policy_role {
    const char *name;
    enum policy_rank rank;
    enum policy_reads reads;
    enum policy_writes writes;
    unsigned unmask : 1;    /* sees FF_MASKED values in clear (and may filter/sort by them) */
    unsigned admin_set : 1; /* may set FF_ADMINSET fields (created_by_id, user.role ...) */
    unsigned limited : 1;   /* FF_GRANTEE_RO fields refused; references kept in scope */
    unsigned deleted : 1;   /* may list soft-deleted records (deleted=include|only) */
    unsigned docs : 1;      /* documentation, class and field lists, OpenAPI */
    unsigned apps : 1;      /* manages OAuth applications on /oauth/applications */
    unsigned changes : 1;   /* reads the change feed (every class's changes, feed.h) */
    const char *summary;    /* one line for docs/security.md */
};

extern const struct policy_role policy_roles[];
extern const int policy_nroles;

/* The row of a role name (NULL: an unknown role, which may do nothing). */
const struct policy_role *policy_role_named(const char *role);
/* The row of p's role; an unknown role gets a row that reads and writes nothing. */
const struct policy_role *policy_role(const struct principal *p);
enum policy_rank policy_rank(const char *role);

/* ---- records ---- */

/* Does a scope predicate restrict p's view of class k? (Used to decide what may be cached
 * across callers: a scoped answer is the caller's own.) */
int policy_scoped(const struct principal *p, const struct class_def *k);
/* Append " AND <cond>" limiting table alias `alias` (a row of class k) to the records p
 * may read. Nothing for a role that reads everything; " AND 0" when it reads nothing. */
void policy_scope(const struct principal *p, const struct class_def *k, const char *alias,
                  struct sql *q);
/* As policy_scope, for the records p may act on through a write: the read scope and, for
 * `user` rows, no user of a higher rank than p's. */
void policy_write_scope(const struct principal *p, const struct class_def *k, const char *alias,
                        struct sql *q);

/* ---- fields ---- */

enum policy_field { PF_HIDDEN, PF_MASKED, PF_VISIBLE };
/* How field f renders to p: hidden (secrets), masked (****1234) or in clear. */
enum policy_field policy_field(const struct principal *p, const struct field *f);
/* May p filter, sort, group or aggregate by f? Only fields it sees in clear. */
int policy_field_usable(const struct principal *p, const struct field *f);
/* Mask a value as the API shows it to roles that see f masked: "****" and the last four
 * bytes. out holds at least 9 bytes; returns the length written. */
size_t policy_mask(const char *s, size_t n, char *out);

/* ---- writes ---- */

enum policy_op { OP_CREATE, OP_UPDATE, OP_DELETE };
/* May p write records of class k at all? 1, or 0 with the reason in why. */
int policy_may_write_class(const struct principal *p, const struct class_def *k, char *why,
                           size_t whylen);
/* May p set field f of class k in a create (is_create) or update? 1, or 0 with a reason. */
int policy_may_set_field(const struct principal *p, const struct class_def *k,
                         const struct field *f, int is_create, char *why, size_t whylen);
/* Is reference field f of class k a membership: a link row that acts on the user it names
 * (user_organization.user_id)? Such a reference may not name a user of a higher rank. */
int policy_membership_ref(const struct class_def *k, const struct field *f);
/* May p give role `role` to a user (no role above p's own)? */
int policy_may_give_role(const struct principal *p, const char *role);

#endif
