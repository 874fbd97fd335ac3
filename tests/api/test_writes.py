"""Contract §6 (writes) and §7 (errors, error_status)."""

import json
import re
import time
from decimal import Decimal

import pytest

from grantd_harness import assert_error, ignored_fields, jparse, unix_time

pytestmark = pytest.mark.writes

GR = "grant_request"


def row(srv, gid, cls=GR):
    return srv.q('SELECT * FROM "%s" WHERE id=?' % cls, gid)[0]


def details_fields(err):
    return {d.get("field") for d in err.get("details") or []}


def check_details(err):
    assert isinstance(err.get("details"), list) and err["details"], err
    for d in err["details"]:
        assert isinstance(d.get("field"), str) and isinstance(d.get("problem"), str), d
        assert d["problem"], d


# ---------------------------------------------------------------- basic writes

def test_create_answers_200_with_record(srv):
    n = srv.q("SELECT count(*) AS n FROM grant_request")[0]["n"]
    g = srv.create_grant(data={"project_summary": "hello create"})
    assert g["id"] > 0 and g["project_summary"] == "hello create"
    assert srv.q("SELECT count(*) AS n FROM grant_request")[0]["n"] == n + 1
    r = row(srv, g["id"])
    assert r["project_summary"] == "hello create" and r["deleted_at"] is None
    assert abs(unix_time(r["created_at"]) - time.time()) < 120
    assert unix_time(r["updated_at"]) >= unix_time(r["created_at"])


def test_cols_on_write_select_the_echo(srv):
    g = srv.create_grant(data={"project_summary": "echo"}, cols='["project_summary","state"]')
    assert list(g) == ["id", "project_summary", "state"], g
    r = srv.write("PUT", GR, g["id"], {"amount_requested": "5"},
                  cols='["amount_requested"]')
    assert jparse(r)[GR] == {"id": g["id"], "amount_requested": 5}, r.text


def test_update_answers_200_and_bumps_updated_at(srv, grant):
    gid = grant["id"]
    before = row(srv, gid)
    time.sleep(1.1)
    rec = srv.update(GR, gid, {"project_summary": "updated!"}, cols=["project_summary",
                                                                     "updated_at"])
    assert rec["project_summary"] == "updated!"
    after = row(srv, gid)
    assert unix_time(after["updated_at"]) > unix_time(before["updated_at"])
    assert rec["updated_at"] == after["updated_at"]
    assert after["created_at"] == before["created_at"]


def test_unknown_and_read_only_fields_ignored_and_listed(srv):
    g = srv.create_grant(data={"project_summary": "ignored fields", "no_such_field": 1,
                               "created_at": "2001-01-01T00:00:00Z",
                               "updated_at": "2001-01-01T00:00:00Z", "id": 1})
    r = srv.last_response
    gid = g["id"]
    ign = ignored_fields(r)
    for f in ("no_such_field", "created_at", "updated_at", "id"):
        assert f in ign, (f, r.headers.get("X-Ignored-Fields"))
    assert "project_summary" not in ign
    rr = row(srv, gid)
    assert abs(unix_time(rr["created_at"]) - time.time()) < 120 and gid != 1
    # Update too.
    r = srv.write("PUT", GR, gid, {"bogus": "x", "created_at": "2001-01-01T00:00:00Z",
                                   "project_summary": "still fine"})
    assert r.status_code == 200 and "error" not in jparse(r), r.text
    assert "bogus" in ignored_fields(r) and "created_at" in ignored_fields(r)
    assert row(srv, gid)["created_at"] == rr["created_at"]
    assert row(srv, gid)["project_summary"] == "still fine"


def test_empty_string_clears(srv):
    t = srv.grant_template()
    g = srv.create_grant(data={"amount_recommended": "10", "fiscal_organization_id":
                               t["program_organization_id"], "request_received_at":
                               "2020-01-02", "po_number": "PO-1"})
    gid = g["id"]
    r = row(srv, gid)
    assert Decimal(r["amount_recommended"]) == 10 and r["fiscal_organization_id"] is not None
    srv.update(GR, gid, {"amount_recommended": "", "fiscal_organization_id": "",
                         "request_received_at": "", "po_number": ""})
    r = row(srv, gid)
    assert r["amount_recommended"] is None
    assert r["fiscal_organization_id"] is None
    assert r["request_received_at"] is None
    assert r["po_number"] in (None, "")
    rec = srv.fetch(GR, gid, cols=["amount_recommended", "fiscal_organization_id",
                                   "request_received_at"])
    assert list(rec) == ["id"], rec


def test_relation_as_object(srv):
    progs = [x["id"] for x in srv.q("SELECT id FROM program WHERE deleted_at IS NULL ORDER BY id")]
    orgs = [x["id"] for x in srv.q("SELECT id FROM organization WHERE deleted_at IS NULL "
                                   "ORDER BY id")]
    assert len(progs) >= 2 and len(orgs) >= 2
    g = srv.create_grant()
    gid = g["id"]
    other = [p for p in progs if p != row(srv, gid)["program_id"]][0]
    srv.update(GR, gid, {"program": {"id": other}})
    assert row(srv, gid)["program_id"] == other
    srv.update(GR, gid, {"fiscal_organization": {"id": orgs[1]}})
    assert row(srv, gid)["fiscal_organization_id"] == orgs[1]
    srv.update(GR, gid, {"fiscal_organization": {"id": ""}})
    assert row(srv, gid)["fiscal_organization_id"] is None
    srv.update(GR, gid, {"program": {"id": progs[0]}})
    assert row(srv, gid)["program_id"] == progs[0]
    # The *_id column name with an object works too (Fluxx's own sample clears that way).
    srv.update(GR, gid, {"fiscal_organization_id": {"id": orgs[0]}})
    assert row(srv, gid)["fiscal_organization_id"] == orgs[0]
    srv.update(GR, gid, {"fiscal_organization_id": {"id": ""}})
    assert row(srv, gid)["fiscal_organization_id"] is None


# ---------------------------------------------------------------- validation

BAD_VALUES = [
    ("16 significant digits", {"amount_requested": "1234567890123456"}, "amount_requested"),
    ("16 digits as number", {"amount_requested": 1234567890123456}, "amount_requested"),
    ("5 decimal places", {"amount_requested": "1.23456"}, "amount_requested"),
    ("5 places as number", {"amount_requested": 1.23456}, "amount_requested"),
    ("not a number", {"amount_requested": "12abc"}, "amount_requested"),
    ("exponent", {"amount_requested": "1e5"}, "amount_requested"),
    ("fx rate 9 places", {"fx_rate1": "1.123456789"}, "fx_rate1"),
    ("bad month", {"ofac_run_at": "2020-13-01T00:00:00Z"}, "ofac_run_at"),
    ("bad hour", {"ofac_run_at": "2020-12-01T25:00:00Z"}, "ofac_run_at"),
    ("bad offset", {"ofac_run_at": "2020-12-01T10:00:00+2"}, "ofac_run_at"),
    ("no time zone", {"ofac_run_at": "2020-12-01T10:00:00"}, "ofac_run_at"),
    ("bad day", {"request_received_at": "2021-02-29"}, "request_received_at"),
    ("words for a datetime", {"request_received_at": "tomorrow"}, "request_received_at"),
    ("US date for a datetime", {"request_received_at": "04/07/2020"}, "request_received_at"),
    ("bad date", {"fx_date_1": "2021-02-30"}, "fx_date_1"),
    ("datetime for a date", {"fx_date_1": "yesterday"}, "fx_date_1"),
    ("integer field", {"duration_in_months": "twelve"}, "duration_in_months"),
    ("boolean field", {"granted": "maybe"}, "granted"),
    ("string too long", {"po_number": "x" * 300}, "po_number"),
    ("missing reference", {"program_id": 987654321}, "program_id"),
    ("missing reference object", {"program": {"id": 987654321}}, None),
]


@pytest.mark.parametrize("name,data,field", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_validation_on_update(srv, grant, name, data, field):
    gid = grant["id"]
    with srv.unchanged():
        r = srv.write("PUT", GR, gid, dict(data, project_summary="must not be written"))
        err = assert_error(r, 100)
    check_details(err)
    if field:
        assert field in details_fields(err), err
    assert row(srv, gid)["project_summary"] != "must not be written"


@pytest.mark.parametrize("name,data,field", BAD_VALUES[:6] + BAD_VALUES[7:8] + BAD_VALUES[-2:-1],
                         ids=[b[0] for b in BAD_VALUES[:6] + BAD_VALUES[7:8] + BAD_VALUES[-2:-1]])
def test_validation_on_create(srv, name, data, field):
    t = srv.grant_template()
    base = {"program_organization_id": t["program_organization_id"],
            "program_id": t["program_id"], "project_summary": "must not exist"}
    base.update(data)
    with srv.unchanged():
        err = assert_error(srv.write("POST", GR, None, base), 100)
    assert field in details_fields(err), err


def test_all_failures_reported_together(srv, grant):
    with srv.unchanged():
        err = assert_error(srv.write("PUT", GR, grant["id"], {
            "amount_requested": "1.234567", "amount_recommended": "x",
            "request_received_at": "nope", "program_id": 987654321}), 100)
    assert {"amount_requested", "amount_recommended", "request_received_at",
            "program_id"} <= details_fields(err), err


def test_decimal_limits_accepted(srv, grant):
    gid = grant["id"]
    srv.update(GR, gid, {"amount_requested": "12345678901.2345", "fx_rate1": "1234567.12345678"})
    r = row(srv, gid)
    assert Decimal(r["amount_requested"]) == Decimal("12345678901.2345")
    assert Decimal(r["fx_rate1"]) == Decimal("1234567.12345678")


def test_datetime_inputs(srv, grant):
    gid = grant["id"]
    for text, stored in (("2020-04-07T10:00:00+02:00", "2020-04-07T08:00:00Z"),
                         ("2020-04-07T10:00:00.987Z", "2020-04-07T10:00:00Z"),
                         ("2020-04-07T10:00:00-05:30", "2020-04-07T15:30:00Z"),
                         ("2020-04-07", "2020-04-07T00:00:00Z")):
        srv.update(GR, gid, {"ofac_run_at": text})
        assert row(srv, gid)["ofac_run_at"] == stored, text


def test_required_fields_v2(srv):
    with srv.unchanged():
        err = assert_error(srv.write("POST", "user", None, {"middle_initial": "Q"}), 100)
    check_details(err)
    assert {"first_name", "last_name"} <= details_fields(err), err


def test_required_fields_v1_message_format(srv):
    with srv.unchanged():
        err = assert_error(srv.write("POST", "user", None, {"middle_initial": "Q"}, v="v1"), 100)
    msg = err["message"]
    assert re.fullmatch(r'#<Exception: \[("[^"]*"(, "[^"]*")*)\]>', msg), msg
    assert '"First name can\'t be blank"' in msg and '"Last name can\'t be blank"' in msg, msg
    if err.get("details"):
        assert msg.count('", "') + 1 == len(err["details"]), (msg, err["details"])


def test_reference_to_deleted_record(srv, grant):
    org = srv.create("organization", {"name": "Short-lived org"})
    srv.delete("organization", org["id"])
    with srv.unchanged():
        err = assert_error(srv.write("PUT", GR, grant["id"],
                                     {"fiscal_organization_id": org["id"]}), 100)
    assert "fiscal_organization_id" in details_fields(err), err


def test_validation_message_names_field_and_not_sql(srv, grant):
    err = assert_error(srv.write("PUT", GR, grant["id"], {"amount_requested": "1.234567"}), 100)
    text = json.dumps(err)
    assert "amount_requested" in text
    for sql_word in ("SELECT ", "UPDATE ", "INSERT ", "sqlite", "SQLITE"):
        assert sql_word not in text, text


# ---------------------------------------------------------------- workflow

def _states(srv):
    st = {r["state"] for r in srv.q("SELECT DISTINCT state FROM grant_request "
                                   "WHERE state IS NOT NULL")}
    if srv.table_exists("workflow_event"):
        for r in srv.q("SELECT old_state, new_state FROM workflow_event WHERE workflowable_type "
                       "IN ('GrantRequest','grant_request')"):
            st |= {x for x in (r["old_state"], r["new_state"]) if x}
    return sorted(st)


def _seen_transitions(srv):
    return {(r["old_state"], r["new_state"]) for r in srv.q(
        "SELECT old_state, new_state FROM workflow_event WHERE workflowable_type IN "
        "('GrantRequest','grant_request') AND old_state IS NOT NULL AND new_state IS NOT NULL "
        "AND old_state != new_state")}


def _events(srv, gid):
    return srv.q("SELECT * FROM workflow_event WHERE workflowable_id=? AND workflowable_type IN "
                 "('GrantRequest','grant_request') ORDER BY id", gid)


def find_valid_transition(srv):
    """(grant id, from, to) after performing one allowed transition through the API."""
    seen = sorted(_seen_transitions(srv))
    for a, b in seen[:5]:
        g = srv.create_grant(data={"state": a})
        r = srv.write("PUT", GR, g["id"], {"state": b})
        if "error" not in jparse(r):
            return g["id"], a, b
    g = srv.create_grant()
    s0 = row(srv, g["id"])["state"]
    for b in _states(srv):
        if b == s0:
            continue
        r = srv.write("PUT", GR, g["id"], {"state": b})
        if "error" not in jparse(r):
            return g["id"], s0, b
    pytest.fail("no allowed state transition found from %r among %s" % (s0, _states(srv)))


def test_invalid_transition_104(srv):
    states = _states(srv)
    seen = _seen_transitions(srv)
    assert len(states) >= 3, states
    accepted = []
    for start in states:
        allowed = {b for a, b in seen if a == start}
        for target in states:
            if target == start or target in allowed or len(accepted) > 12:
                continue
            g = srv.create_grant(data={"state": start})
            assert row(srv, g["id"])["state"] == start
            before = srv.snapshot()
            r = srv.write("PUT", GR, g["id"], {"state": target, "project_summary": "nope"})
            if "error" not in jparse(r):
                accepted.append((start, target))  # allowed by the workflow, not in the seed
                continue
            err = assert_error(r, 104)
            assert srv.snapshot() == before, "a refused transition changed the database"
            assert start in err["message"], err
            for a in allowed:
                assert a in err["message"], (a, err)
            assert row(srv, g["id"])["state"] == start
            # An unknown state is refused too, whatever the code, and changes nothing.
            with srv.unchanged():
                r = srv.write("PUT", GR, g["id"], {"state": "no_such_state_xyz"})
                assert jparse(r)["error"]["code"] in (100, 104), r.text
            return
    pytest.fail("no transition was refused; accepted: %s" % accepted)


def test_valid_transition_writes_workflow_event(srv):
    t0 = int(time.time()) - 2
    gid, a, b = find_valid_transition(srv)
    assert row(srv, gid)["state"] == b
    ev = [e for e in _events(srv, gid) if e["old_state"] == a and e["new_state"] == b]
    assert len(ev) == 1, _events(srv, gid)
    e = ev[0]
    assert unix_time(e["created_at"]) >= t0
    who = e.get("created_by_id")
    assert who == srv.user_ids["admin"], e
    # Through the API as well.
    recs = srv.list("workflow_event", filter={"group_type": "and", "conditions": [
        ["workflowable_id", "eq", gid]]}, per_page=50)["records"]["workflow_event"]
    assert any(x.get("old_state") == a and x.get("new_state") == b for x in recs), recs


def test_create_with_any_state_writes_event_without_old_state(srv):
    g0 = srv.create_grant()
    initial = row(srv, g0["id"])["state"]
    later = [s for s in _states(srv) if s != initial][-1]
    g = srv.create_grant(data={"state": later})
    assert row(srv, g["id"])["state"] == later
    ev = _events(srv, g["id"])
    assert len(ev) == 1, ev
    assert ev[0]["old_state"] is None and ev[0]["new_state"] == later, ev


def test_workflow_event_is_read_only(srv):
    eid = srv.q("SELECT id FROM workflow_event ORDER BY id LIMIT 1")
    assert eid, "seed has no workflow events"
    eid = eid[0]["id"]
    gid = srv.grant_template()["id"]
    with srv.unchanged():
        for r in (srv.write("POST", "workflow_event", None,
                            {"workflowable_type": "GrantRequest", "workflowable_id": gid,
                             "old_state": "new", "new_state": "granted"}),
                  srv.write("PUT", "workflow_event", eid, {"comment": "x"}),
                  srv.api("DELETE", "v2/workflow_event/%d" % eid)):
            assert_error(r, 403, status=403)
    assert srv.fetch("workflow_event", eid)["id"] == eid


# ---------------------------------------------------------------- delete

def test_soft_delete(srv):
    g = srv.create_grant(data={"project_summary": "to delete"})
    gid = g["id"]
    t0 = int(time.time()) - 2
    r = srv.api("DELETE", "v2/grant_request/%d" % gid, role="employee")
    assert r.status_code == 200 and r.text == "true"
    rr = row(srv, gid)
    assert rr["deleted_at"] and unix_time(rr["deleted_at"]) >= t0
    assert rr["updated_by_id"] == srv.user_ids["employee"]
    # Leaves lists...
    b = srv.list(GR, filter=["id", "eq", gid])
    assert b["records"][GR] == [] and b["total_entries"] == 0
    # ...but a fetch still returns it, with deleted_at.
    rec = srv.fetch(GR, gid, cols=["deleted_at", "project_summary"])
    assert rec["deleted_at"] == rr["deleted_at"] and rec["project_summary"] == "to delete"
    # A second DELETE answers true again.
    r = srv.api("DELETE", "v2/grant_request/%d" % gid)
    assert r.status_code == 200 and r.text == "true"
    # PUT on a deleted record works.
    srv.update(GR, gid, {"project_summary": "edited after delete"})
    assert row(srv, gid)["project_summary"] == "edited after delete"
    assert row(srv, gid)["deleted_at"]


def test_deleted_record_leaves_relation_expansion(srv):
    org = srv.create("organization", {"name": "Org to vanish"})
    g = srv.create_grant(data={"fiscal_organization_id": org["id"]})
    srv.delete("organization", org["id"])
    rec = srv.fetch(GR, g["id"], cols=["state"], relation={"fiscal_organization_id": ["name"]})
    assert rec.get("fiscal_organization_id") == [], rec


# ---------------------------------------------------------------- who

def test_created_by_defaults_to_token_user(srv):
    g = srv.create_grant(role="employee")
    r = row(srv, g["id"])
    assert r["created_by_id"] == srv.user_ids["employee"]
    assert r["updated_by_id"] == srv.user_ids["employee"]
    srv.update(GR, g["id"], {"project_summary": "by super"}, role="super_user")
    r = row(srv, g["id"])
    assert r["created_by_id"] == srv.user_ids["employee"]
    assert r["updated_by_id"] == srv.user_ids["super_user"]


def test_only_admin_sets_created_by(srv):
    g = srv.create_grant(data={"created_by_id": srv.user_ids["employee"]})
    assert row(srv, g["id"])["created_by_id"] == srv.user_ids["employee"]
    # Someone else than admin: refused (403) or not applied.
    r = srv.write("PUT", GR, g["id"], {"created_by_id": srv.user_ids["super_user"]},
                  role="employee")
    b = jparse(r)
    if "error" in b:
        assert b["error"]["code"] == 403 and r.status_code == 403, b
    assert row(srv, g["id"])["created_by_id"] == srv.user_ids["employee"]


# ---------------------------------------------------------------- error_status=http

def _invalid_transition(s):
    """A (grant id, target) whose transition the server refuses with 104, or None."""
    states = _states(s)
    seen = _seen_transitions(s)
    for start in states:
        allowed = {b for a, b in seen if a == start}
        for target in states:
            if target != start and target not in allowed:
                g = s.create_grant(data={"state": start})
                r = s.write("PUT", GR, g["id"], {"state": target}, v="v1")
                e = jparse(r).get("error")
                if e and e.get("code") == 104:
                    return g["id"], target
    return None


@pytest.mark.slow
def test_error_status_http(make_server):
    s = make_server("errhttp", grants=20, config={"error_status": "http"})
    g = s.create_grant()
    gid = g["id"]
    inval = _invalid_transition(s)
    cases = [
        (100, 422, lambda v: s.write("PUT", GR, gid, {"amount_requested": "1.234567"}, v=v)),
        (101, 404, lambda v: s.api("GET", "%s/nope_class" % v)),
        (102, 404, lambda v: s.api("GET", "%s/grant_request/987654321" % v)),
        (102, 404, lambda v: s.api("GET", "%s/grant_request/abc" % v)),
        (103, 400, lambda v: s.api("GET", "%s/grant_request" % v, params={"sort": "["})),
        (103, 400, lambda v: s.api("GET", "%s/grant_request" % v,
                                   params={"filter": '["nope","eq",1]'})),
    ]
    if inval:
        cases.append((104, 422, lambda v: s.write("PUT", GR, inval[0], {"state": inval[1]},
                                                  v=v)))
    for code, status, call in cases:
        with s.unchanged():
            assert_error(call("v2"), code, status=status)
            assert_error(call("v1"), code, status=200)
    assert inval, "no refused transition found to check code 104"
    # Other statuses do not change.
    r = s.api("GET", "v2/grant_request", role=None)
    assert r.status_code == 401
    r = s.write("PUT", GR, gid, {"project_summary": "x"}, role="developer")
    assert_error(r, 403, status=403)


def test_error_status_default_is_200(srv, grant):
    for v in ("v1", "v2"):
        assert_error(srv.write("PUT", GR, grant["id"], {"amount_requested": "1.234567"}, v=v),
                     100, status=200)
        assert_error(srv.api("GET", "%s/nope_class" % v), 101, status=200)
        assert_error(srv.api("GET", "%s/grant_request/987654321" % v), 102, status=200)
        assert_error(srv.api("GET", "%s/grant_request" % v, params={"sort": "["}), 103,
                     status=200)


def test_relation_on_write_selects_the_echo(srv, grant):
    t = srv.grant_template()
    r = srv.write("PUT", GR, grant["id"], {"project_summary": "echo relation"},
                  cols='["project_summary"]', relation='{"program_organization_id":["name"]}')
    b = jparse(r)[GR]
    name = srv.q("SELECT name FROM organization WHERE id=?",
                 row(srv, grant["id"])["program_organization_id"])[0]["name"]
    assert b["project_summary"] == "echo relation"
    assert b["program_organization_id"] == [{"id": row(srv, grant["id"])["program_organization_id"],
                                             "name": name}], b


def test_create_with_unknown_state_refused(srv):
    t = srv.grant_template()
    with srv.unchanged():
        r = srv.write("POST", GR, None, {"program_organization_id": t["program_organization_id"],
                                         "program_id": t["program_id"],
                                         "state": "not_a_state"})
        assert jparse(r)["error"]["code"] in (100, 104), r.text


def test_enumeration_validated(srv):
    u = srv.create("user", {"first_name": "Enum", "last_name": "Check"})
    with srv.unchanged():
        err = assert_error(srv.write("PUT", "user", u["id"], {"role": "pope"}), 100)
    assert "role" in details_fields(err), err


def test_payment_transition_writes_workflow_event(srv):
    tx = srv.q("SELECT id FROM request_transaction WHERE deleted_at IS NULL AND state='due' "
               "ORDER BY id LIMIT 1")
    assert tx, "seed has no payment in state due"
    tid = tx[0]["id"]
    srv.update("request_transaction", tid, {"state": "paid", "paid_at": "2026-12-08"},
               role="employee")
    ev = srv.q("SELECT * FROM workflow_event WHERE workflowable_id=? AND workflowable_type IN "
               "('RequestTransaction','request_transaction') ORDER BY id DESC LIMIT 1", tid)
    assert ev and ev[0]["old_state"] == "due" and ev[0]["new_state"] == "paid", ev
    assert ev[0]["created_by_id"] == srv.user_ids["employee"]
    with srv.unchanged():
        assert_error(srv.write("PUT", "request_transaction", tid, {"state": "tentatively_due"}),
                     104)


def test_required_fields_on_create_and_clear(srv, grant):
    with srv.unchanged():
        err = assert_error(srv.write("POST", GR, None, {"project_summary": "no refs"}), 100)
        assert {"program_id", "program_organization_id"} <= details_fields(err), err
        err = assert_error(srv.write("PUT", GR, grant["id"], {"program_id": ""}), 100)
        assert "program_id" in details_fields(err), err
        err = assert_error(srv.write("PUT", GR, grant["id"], {"program": {"id": ""}}), 100)
