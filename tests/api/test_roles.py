"""Contract §8: what each role may read and write through the API."""

import json
from decimal import Decimal

import pytest

from grantd_harness import assert_error, jparse

pytestmark = pytest.mark.roles

GR = "grant_request"


def all_ids(srv, cls, role, **params):
    return srv.list_ids(cls, role=role, cols=["id"], **params)


def grantee_orgs(srv):
    uid = srv.user_ids["grantee"]
    orgs = set()
    if srv.table_exists("user_organization"):
        cols = srv.columns("user_organization")
        q = "SELECT organization_id FROM user_organization WHERE user_id=?"
        if "deleted_at" in cols:
            q += " AND deleted_at IS NULL"
        orgs = {r["organization_id"] for r in srv.q(q, uid)}
    assert srv.grantee_org in orgs, "grantd user add --organization did not link the user: %s" % orgs
    return orgs


def own_grants(srv):
    orgs = grantee_orgs(srv)
    return [r["id"] for r in srv.q("SELECT id, program_organization_id AS p, "
                                   "fiscal_organization_id AS f FROM grant_request "
                                   "WHERE deleted_at IS NULL ORDER BY id")
            if r["p"] in orgs or r["f"] in orgs]


def other_grant(srv):
    orgs = grantee_orgs(srv)
    for r in srv.q("SELECT id, program_organization_id AS p, fiscal_organization_id AS f "
                   "FROM grant_request WHERE deleted_at IS NULL ORDER BY id"):
        if r["p"] not in orgs and r["f"] not in orgs:
            return r["id"]
    pytest.fail("every grant belongs to the grantee's organization")


def own_grant(srv):
    ids = own_grants(srv)
    assert ids, "the grantee's organization owns no grant request"
    return ids[0]


def _tx_fk(srv):
    return "request_id" if "request_id" in srv.columns("request_transaction") \
        else "grant_request_id"


# ---------------------------------------------------------------- grantee

def test_grantee_lists_are_scoped(srv):
    exp = own_grants(srv)
    assert exp and len(exp) < srv.q("SELECT count(*) AS n FROM grant_request "
                                    "WHERE deleted_at IS NULL")[0]["n"]
    assert all_ids(srv, GR, "grantee") == exp
    b = srv.list(GR, role="grantee", per_page=1)
    assert b["total_entries"] == len(exp)
    # Filters apply inside the scope.
    st = srv.q("SELECT state FROM grant_request WHERE id=?", exp[0])[0]["state"]
    got = all_ids(srv, GR, "grantee", filter=["state", "eq", st])
    assert got == [i for i in exp if srv.q("SELECT state FROM grant_request WHERE id=?",
                                            i)[0]["state"] == st]
    # v1 and POST /list too.
    assert srv.list_ids(GR, v="v1", role="grantee") == exp
    b = srv.list(GR, role="grantee", method="POST", per_page=500, cols=["id"])
    assert [r["id"] for r in b["records"][GR]] == exp[:500]


def test_grantee_related_records_are_scoped(srv):
    orgs = grantee_orgs(srv)
    got = all_ids(srv, "organization", "grantee")
    assert sorted(got) == sorted(o for o in orgs if srv.q(
        "SELECT 1 FROM organization WHERE id=? AND deleted_at IS NULL", o))
    fk = _tx_fk(srv)
    grants = set(own_grants(srv))
    exp = [r["id"] for r in srv.q("SELECT id, %s AS g FROM request_transaction "
                                  "WHERE deleted_at IS NULL ORDER BY id" % fk)
           if r["g"] in grants]
    assert all_ids(srv, "request_transaction", "grantee") == exp


def test_grantee_other_org_is_102(srv):
    oid = other_grant(srv)
    missing = srv.q("SELECT max(id) AS m FROM grant_request")[0]["m"] + 1000
    with srv.unchanged():
        e1 = assert_error(srv.api("GET", "v2/grant_request/%d" % oid, role="grantee"), 102)
        e2 = assert_error(srv.api("GET", "v2/grant_request/%d" % missing, role="grantee"), 102)
        assert e1["message"].replace(str(oid), "N") == e2["message"].replace(str(missing), "N")
        assert_error(srv.write("PUT", GR, oid, {"project_summary": "x"}, role="grantee"), 102)
        assert_error(srv.api("DELETE", "v2/grant_request/%d" % oid, role="grantee"), 102)
        assert_error(srv.api("GET", "v1/grant_request/%d" % oid, role="grantee"), 102)
    # A filter naming the other grant finds nothing.
    assert all_ids(srv, GR, "grantee", filter=["id", "eq", oid]) == []


def test_grantee_reads_and_writes_own_grant(srv):
    gid = own_grant(srv)
    assert srv.fetch(GR, gid, role="grantee")["id"] == gid
    srv.update(GR, gid, {"project_summary": "written by the grantee"}, role="grantee")
    assert srv.q("SELECT project_summary, updated_by_id FROM grant_request WHERE id=?", gid)[0] \
        == {"project_summary": "written by the grantee",
            "updated_by_id": srv.user_ids["grantee"]}


@pytest.mark.parametrize("field", ["state", "amount_requested", "amount_recommended",
                                   "program_organization_id", "program_id", "created_by_id",
                                   "updated_by_id"])
def test_grantee_may_not_write_protected_fields(srv, field):
    gid = own_grant(srv)
    row = srv.q("SELECT * FROM grant_request WHERE id=?", gid)[0]
    values = {
        "state": [s["state"] for s in srv.q("SELECT DISTINCT state FROM grant_request")
                  if s["state"] != row["state"]][0],
        "amount_requested": "1.5", "amount_recommended": "2.5",
        "program_organization_id": other_org(srv),
        "program_id": [p["id"] for p in srv.q("SELECT id FROM program ORDER BY id")
                       if p["id"] != row["program_id"]][0],
        "created_by_id": srv.user_ids["grantee"], "updated_by_id": srv.user_ids["admin"],
    }
    with srv.unchanged():
        r = srv.write("PUT", GR, gid, {field: values[field], "project_summary": "sneaky"},
                      role="grantee")
        assert_error(r, 403, status=403)


def other_org(srv):
    orgs = grantee_orgs(srv)
    return [o["id"] for o in srv.q("SELECT id FROM organization WHERE deleted_at IS NULL "
                                   "ORDER BY id") if o["id"] not in orgs][0]


def test_grantee_own_organization(srv):
    org = srv.grantee_org
    assert srv.fetch("organization", org, role="grantee")["id"] == org
    srv.update("organization", org, {"phone": "+1 555 0100"}, role="grantee")
    assert srv.q("SELECT phone FROM organization WHERE id=?", org)[0]["phone"] == "+1 555 0100"
    with srv.unchanged():
        assert_error(srv.api("GET", "v2/organization/%d" % other_org(srv), role="grantee"), 102)
        assert_error(srv.write("PUT", "organization", other_org(srv), {"phone": "1"},
                               role="grantee"), 102)


# ---------------------------------------------------------------- developer

def test_developer_reads_everything(srv):
    n = srv.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NULL")[0]["n"]
    assert srv.list(GR, role="developer", per_page=1)["total_entries"] == n
    gid = srv.grant_template()["id"]
    assert srv.fetch(GR, gid, role="developer")["id"] == gid
    srv.list("user", role="developer", per_page=1)
    srv.list("organization", role="developer", per_page=1)


def test_developer_cannot_write(srv, grant):
    t = srv.grant_template()
    with srv.unchanged():
        for r in (srv.write("POST", GR, None, {"program_organization_id":
                                               t["program_organization_id"],
                                               "program_id": t["program_id"]}, role="developer"),
                  srv.write("PUT", GR, grant["id"], {"project_summary": "dev"}, role="developer"),
                  srv.write("PATCH", GR, grant["id"], {"project_summary": "dev"},
                            role="developer"),
                  srv.api("DELETE", "v2/grant_request/%d" % grant["id"], role="developer"),
                  srv.write("POST", "organization", None, {"name": "dev org"}, role="developer"),
                  srv.write("POST", GR, None, {"project_summary": "dev"}, v="v1",
                            role="developer")):
            assert_error(r, 403, status=403)


# ---------------------------------------------------------------- employee, super_user, admin

def test_employee_writes_grants_orgs_payments(srv, grant):
    org = srv.create("organization", {"name": "Employee-made org"}, role="employee")
    srv.update("organization", org["id"], {"city": "Lyon"}, role="employee")
    srv.update(GR, grant["id"], {"project_summary": "employee edit"}, role="employee")
    fk = _tx_fk(srv)
    tx = srv.q("SELECT id FROM request_transaction WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    assert tx, "seed has no payments"
    srv.update("request_transaction", tx[0]["id"], {"comment": "employee note"}, role="employee")
    assert srv.q("SELECT comment FROM request_transaction WHERE id=?",
                 tx[0]["id"])[0]["comment"] == "employee note"
    srv.delete("organization", org["id"], role="employee")


def _model_attribute_data():
    return {"name": "t_dyn_field", "model_type": "GrantRequest", "attribute_type": "string",
            "description": "test"}


@pytest.mark.parametrize("role", ["employee", "super_user", "developer", "grantee"])
def test_model_attribute_writes_refused(srv, role):
    ex = srv.q("SELECT id FROM model_attribute ORDER BY id LIMIT 1") \
        if srv.table_exists("model_attribute") else []
    with srv.unchanged():
        assert_error(srv.write("POST", "model_attribute", None, _model_attribute_data(),
                               role=role), 403, status=403)
        if ex:
            assert_error(srv.write("PUT", "model_attribute", ex[0]["id"], {"description": "x"},
                                   role=role), 403, status=403)
            assert_error(srv.api("DELETE", "v2/model_attribute/%d" % ex[0]["id"], role=role),
                         403, status=403)


def _new_user(srv):
    u = srv.create("user", {"first_name": "Role", "last_name": "Target",
                            "login": "role_target_%d" % srv.log_len(),
                            "email": "role.target.%d@example.org" % srv.log_len()})
    return u["id"]


def test_roles_only_admin_changes_roles(srv):
    uid = _new_user(srv)
    before = srv.q('SELECT * FROM "user" WHERE id=?', uid)[0]
    assert "role" in before, "user table has no role column"
    for role in ("employee", "super_user", "developer"):
        with srv.unchanged():
            assert_error(srv.write("PUT", "user", uid, {"role": "admin"}, role=role), 403,
                         status=403)
    srv.update("user", uid, {"role": "developer"}, role="admin")
    assert srv.q('SELECT role FROM "user" WHERE id=?', uid)[0]["role"] == "developer"


def test_employee_and_super_user_edit_people(srv):
    uid = _new_user(srv)
    srv.update("user", uid, {"first_name": "Edited"}, role="employee")
    srv.update("user", uid, {"last_name": "Again"}, role="super_user")
    r = srv.q('SELECT first_name, last_name FROM "user" WHERE id=?', uid)[0]
    assert r == {"first_name": "Edited", "last_name": "Again"}


def test_super_user_writes(srv, grant):
    srv.update(GR, grant["id"], {"amount_recommended": "3"}, role="super_user")
    assert Decimal(srv.q("SELECT amount_recommended FROM grant_request WHERE id=?",
                         grant["id"])[0]["amount_recommended"]) == 3
    srv.create("organization", {"name": "super org"}, role="super_user")


@pytest.mark.slow
def test_admin_may_write_model_attribute(make_server):
    s = make_server("modelattr", grants=5)
    r = s.write("POST", "model_attribute", None, _model_attribute_data())
    b = jparse(r)
    assert r.status_code == 200 and "error" not in b, r.text[:500]
    assert b["model_attribute"]["id"] > 0


def test_employee_cannot_write_other_classes(srv):
    prog = srv.q("SELECT id FROM program WHERE deleted_at IS NULL ORDER BY id LIMIT 1")[0]["id"]
    with srv.unchanged():
        assert_error(srv.write("PUT", "program", prog, {"description": "emp"}, role="employee"),
                     403, status=403)
        assert_error(srv.write("POST", "program", None, {"name": "emp prog"}, role="employee"),
                     403, status=403)
        assert_error(srv.api("DELETE", "v2/program/%d" % prog, role="employee"), 403, status=403)
    # super_user may.
    srv.update("program", prog, {"description": "super"}, role="super_user")


def test_grantee_sees_only_own_people(srv):
    orgs = grantee_orgs(srv)
    cols = srv.columns("user_organization")
    q = "SELECT DISTINCT user_id FROM user_organization WHERE organization_id IN (%s)" % \
        ",".join(str(o) for o in orgs)
    if "deleted_at" in cols:
        q += " AND deleted_at IS NULL"
    exp = sorted(r["user_id"] for r in srv.q(q)
                 if srv.q('SELECT 1 FROM "user" WHERE id=? AND deleted_at IS NULL', r["user_id"]))
    assert srv.user_ids["grantee"] in exp
    assert sorted(all_ids(srv, "user", "grantee")) == exp
    other = srv.user_ids["admin"]
    if other not in exp:
        assert_error(srv.api("GET", "v2/user/%d" % other, role="grantee"), 102)


def test_grantee_sees_nothing_of_unscoped_classes(srv):
    prog = srv.q("SELECT id FROM program WHERE deleted_at IS NULL ORDER BY id LIMIT 1")[0]["id"]
    b = srv.list("program", role="grantee")
    assert b["records"]["program"] == [] and b["total_entries"] == 0 and b["total_pages"] == 1
    assert_error(srv.api("GET", "v2/program/%d" % prog, role="grantee"), 102)


def test_grantee_never_lists_deleted_records(srv):
    g = srv.create_grant(data={"program_organization_id": srv.grantee_org})
    srv.delete(GR, g["id"])
    for flag in ("include", "only"):
        r = srv.api("GET", "v2/grant_request", role="grantee",
                    params={"deleted": flag, "per_page": 500, "cols": '["deleted_at"]'})
        b = jparse(r)
        if "error" in b:
            assert b["error"]["code"] == 403 and r.status_code == 403, b
        else:
            assert all("deleted_at" not in x for x in b["records"][GR]), flag
