"""Contract §5: envelopes and value rendering."""

import json
import math
import re

import pytest

from grantd_harness import JSON_CT, ignored_fields, jparse
from decimal import Decimal

pytestmark = pytest.mark.responses

DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.mark.parametrize("v", ["v1", "v2"])
@pytest.mark.parametrize("per_page", [1, 7, 25, 199, 500])
def test_list_envelope_order_and_totals(srv, v, per_page):
    n = srv.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NULL")[0]["n"]
    r = srv.api("GET", "%s/grant_request" % v, params={"per_page": per_page})
    assert r.status_code == 200 and r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert list(b) == ["records", "total_pages", "total_entries", "current_page", "per_page"]
    assert list(b["records"]) == ["grant_request"]
    assert b["total_entries"] == n
    assert b["total_pages"] == max(1, math.ceil(n / per_page))
    assert b["per_page"] == per_page and b["current_page"] == 1
    for k in ("total_pages", "total_entries", "current_page", "per_page"):
        assert type(b[k]) is int
    assert len(b["records"]["grant_request"]) == min(n, per_page)


def test_single_record_envelope(srv):
    gid = srv.grant_template()["id"]
    for v in ("v1", "v2"):
        b = jparse(srv.api("GET", "%s/grant_request/%d" % (v, gid)))
        assert list(b) == ["grant_request"] and list(b["grant_request"])[0] == "id"
        assert b["grant_request"]["id"] == gid


def test_decimals_exact(srv):
    g = srv.create_grant(data={"amount_requested": "1234567.8912", "amount_recommended": "0.1"})
    gid = g["id"]
    row = srv.q("SELECT amount_requested, amount_recommended FROM grant_request WHERE id=?", gid)[0]
    assert Decimal(row["amount_requested"]) == Decimal("1234567.8912"), row
    assert Decimal(row["amount_recommended"]) == Decimal("0.1"), row
    r = srv.api("GET", "v2/grant_request/%d" % gid,
                params={"cols": '["amount_requested","amount_recommended"]'})
    text = r.text
    assert re.search(r'"amount_requested":\s*1234567\.8912\s*[,}]', text), text
    assert re.search(r'"amount_recommended":\s*0\.1\s*[,}]', text), text
    b = jparse(r)["grant_request"]
    assert b["amount_requested"] == Decimal("1234567.8912")
    assert b["amount_recommended"] == Decimal("0.1")
    # From JSON numbers too.
    r = srv.api("PUT", "v2/grant_request/%d" % gid,
                json={"data": {"amount_requested": 0.1, "amount_recommended": 35000},
                      "cols": ["amount_requested", "amount_recommended"]})
    assert re.search(r'"amount_requested":\s*0\.1\s*[,}]', r.text), r.text
    assert re.search(r'"amount_recommended":\s*35000(\.0+)?\s*[,}]', r.text), r.text
    row = srv.q("SELECT amount_requested, amount_recommended FROM grant_request WHERE id=?", gid)[0]
    assert Decimal(row["amount_requested"]) == Decimal("0.1"), row
    assert Decimal(row["amount_recommended"]) == Decimal("35000"), row
    # Negative and many-digit values.
    srv.update("grant_request", gid, {"amount_requested": "-0.0001",
                                      "amount_recommended": "99999999999.9999"})
    b = srv.fetch("grant_request", gid, cols=["amount_requested", "amount_recommended"])
    assert b["amount_requested"] == Decimal("-0.0001")
    assert b["amount_recommended"] == Decimal("99999999999.9999")


def test_seeded_decimals_render_exactly(srv):
    rows = srv.q("SELECT id, amount_requested FROM grant_request WHERE deleted_at IS NULL "
                 "AND amount_requested IS NOT NULL ORDER BY id LIMIT 100")
    b = srv.list("grant_request", cols=["amount_requested"], per_page=100,
                 filter={"group_type": "or", "conditions": [["id", "eq", r["id"]] for r in rows]})
    got = {r["id"]: r["amount_requested"] for r in b["records"]["grant_request"]}
    for r in rows:
        assert Decimal(got[r["id"]]) == Decimal(r["amount_requested"]), r


def test_fx_rate_scale_8(srv):
    g = srv.create_grant(data={"fx_rate1": "1.23456789"})
    assert Decimal(srv.q("SELECT fx_rate1 FROM grant_request WHERE id=?",
                         g["id"])[0]["fx_rate1"]) == Decimal("1.23456789")
    r = srv.api("GET", "v2/grant_request/%d" % g["id"], params={"cols": '["fx_rate1"]'})
    assert re.search(r'"fx_rate1":\s*1\.23456789\s*[,}]', r.text), r.text


def test_datetimes_and_dates(srv):
    g = srv.create_grant(data={"ofac_run_at": "2020-04-07T10:11:12Z",
                               "request_received_at": "2020-04-08",
                               "fx_date_1": "2021-03-04"})
    row = srv.q("SELECT * FROM grant_request WHERE id=?", g["id"])[0]
    assert row["ofac_run_at"] == "2020-04-07T10:11:12Z"
    assert row["request_received_at"] == "2020-04-08T00:00:00Z"
    assert row["fx_date_1"] == "2021-03-04"
    rec = srv.fetch("grant_request", g["id"],
                    cols=["ofac_run_at", "request_received_at", "fx_date_1", "created_at",
                          "updated_at"])
    assert rec["ofac_run_at"] == "2020-04-07T10:11:12Z"
    assert rec["request_received_at"] == "2020-04-08T00:00:00Z"
    assert rec["fx_date_1"] == "2021-03-04"
    assert DT.match(rec["created_at"]) and rec["created_at"] == row["created_at"]
    assert DT.match(rec["updated_at"]) and rec["updated_at"] == row["updated_at"]
    v1 = srv.fetch("grant_request", g["id"], v="v1", style="full")
    assert v1["ofac_run_at"] == "2020-04-07T10:11:12Z"
    assert v1["fx_date_1"] == "2021-03-04"


def test_seeded_values_render_like_the_database(srv):
    """Every column of a seeded record: ints as ints, datetimes ISO, decimals exact."""
    row = srv.grant_template()
    rec = srv.fetch("grant_request", row["id"])
    for c, v in row.items():
        if v is None:
            assert c not in rec, c
            continue
        got = rec[c]
        if c.endswith("_at"):
            assert got == v, (c, got, v)
        elif c.startswith("amount_") or c.startswith("fx_rate"):
            assert Decimal(got) == Decimal(v), (c, got, v)
        elif c == "state":
            assert got == v and isinstance(got, str)
        elif isinstance(v, str):
            assert got == v, (c, got, v)
        elif c == "id" or c.endswith("_id"):
            assert got == v and type(got) is int, (c, got, v)
    assert isinstance(rec["created_at"], str) and DT.match(rec["created_at"])


def test_alias_relation_renders_id_array(srv):
    g = srv.create_grant()
    row = srv.q("SELECT created_by_id, updated_by_id FROM grant_request WHERE id=?", g["id"])[0]
    rec = srv.fetch("grant_request", g["id"], cols=["created_by", "updated_by", "created_by_id"])
    assert rec["created_by"] == [row["created_by_id"]], rec
    assert rec["updated_by"] == [row["updated_by_id"]], rec
    assert rec["created_by_id"] == row["created_by_id"]
    assert list(rec) == ["id", "created_by", "updated_by", "created_by_id"]


def _transaction_fk(srv):
    cols = srv.columns("request_transaction")
    return "request_id" if "request_id" in cols else "grant_request_id"


def test_has_many_renders_id_array_and_drops_deleted(srv):
    fk = _transaction_fk(srv)
    rows = srv.q("SELECT %s AS g, count(*) AS n FROM request_transaction WHERE deleted_at IS NULL "
                 "AND %s IS NOT NULL GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 1" % (fk, fk))
    assert rows, "seed has no grant with two payments"
    gid = rows[0]["g"]

    def expected():
        return sorted(r["id"] for r in srv.q(
            "SELECT id FROM request_transaction WHERE %s=? AND deleted_at IS NULL" % fk, gid))

    rec = srv.fetch("grant_request", gid, cols=["request_transaction_ids"])
    assert sorted(rec["request_transaction_ids"]) == expected()
    assert all(type(x) is int for x in rec["request_transaction_ids"])
    victim = expected()[0]
    srv.delete("request_transaction", victim)
    rec = srv.fetch("grant_request", gid, cols=["request_transaction_ids"])
    assert victim not in rec["request_transaction_ids"]
    assert sorted(rec["request_transaction_ids"]) == expected()
    # Relation expansion drops it as well.
    rec = srv.fetch("grant_request", gid, cols=["state"],
                    relation={"request_transaction_ids": ["state"]})
    assert victim not in [o["id"] for o in rec["request_transaction_ids"]]


def test_has_many_empty(srv):
    g = srv.create_grant()
    rec = srv.fetch("grant_request", g["id"], cols=["request_transaction_ids", "state"])
    assert rec.get("request_transaction_ids", []) == [], rec


def test_state_is_a_string_everywhere(srv):
    for cls in ("grant_request", "request_transaction"):
        b = srv.list(cls, cols=["state"], per_page=50)
        for rec in b["records"][cls]:
            if "state" in rec:
                assert isinstance(rec["state"], str), (cls, rec)


SECRET_HINTS = ("mfa_", "crypted", "password_digest", "password_hash", "password_salt", "salt",
                "persistence_token", "perishable_token", "single_access_token", "otp")


def _secret_columns(srv):
    return [c for c in srv.columns("user") if any(h in c for h in SECRET_HINTS)]


def test_secret_fields_never_rendered(srv):
    uid = srv.user_ids["admin"]
    secret_cols = _secret_columns(srv) + ["mfa_otp_key", "mfa_sms_token", "crypted_password"]
    rec = srv.fetch("user", uid)
    rec_all = srv.fetch("user", uid, all_core=1)
    v1 = srv.fetch("user", uid, v="v1", style="full")
    r = srv.api("GET", "v2/user/%d" % uid, params={"cols": json.dumps(secret_cols + ["login"])})
    asked = jparse(r)["user"]
    for c in secret_cols:
        for where, x in (("no cols", rec), ("all_core", rec_all), ("v1 full", v1),
                         ("cols", asked)):
            assert c not in x, (c, where)
    for text in (r.text, srv.api("GET", "v2/user/%d" % uid).text,
                 srv.api("GET", "v1/user/%d" % uid, params={"style": "full"}).text,
                 srv.api("GET", "v2/user", params={"per_page": 500}).text):
        assert "$argon2" not in text
    with srv.unchanged():
        for c in ("mfa_otp_key", "mfa_sms_token"):
            err = srv.api("GET", "v2/user", params={"filter": json.dumps([c, "null", "-"])})
            assert jparse(err).get("error", {}).get("code") == 103, err.text
            err = srv.api("GET", "v2/user", params={"sort": json.dumps([c, "asc"])})
            assert jparse(err).get("error", {}).get("code") == 103, err.text


def _bank_account(srv):
    cols = srv.columns("bank_account")
    rows = srv.q("SELECT id, account_number FROM bank_account WHERE deleted_at IS NULL "
                 "AND length(account_number) >= 8 ORDER BY id LIMIT 1") if "deleted_at" in cols \
        else []
    if rows:
        return rows[0]["id"], rows[0]["account_number"]
    org = srv.grant_template()["program_organization_id"]
    b = srv.create("bank_account", {"account_number": "9876543210", "bank_name": "Test Bank",
                                    "account_name": "Operating", "owner_organization_id": org})
    return b["id"], "9876543210"


def test_bank_account_numbers_masked(srv):
    bid, number = _bank_account(srv)
    for role in ("admin", "super_user"):
        rec = srv.fetch("bank_account", bid, role=role, cols=["account_number"])
        assert rec["account_number"] == number, role
    for role in ("employee", "developer"):
        rec = srv.fetch("bank_account", bid, role=role, cols=["account_number"])
        assert rec["account_number"] == "****" + number[-4:], (role, rec)
        r = srv.api("GET", "v2/bank_account", role=role, params={"per_page": 500})
        assert number not in r.text, role
        r = srv.api("GET", "v1/bank_account/%d" % bid, role=role, params={"style": "full"})
        assert number not in r.text, role



def test_booleans_render_true_false(srv):
    g = srv.create_grant(data={"granted": True, "multi_year": False})
    assert srv.q("SELECT granted, multi_year FROM grant_request WHERE id=?", g["id"])[0] == \
        {"granted": 1, "multi_year": 0}
    r = srv.api("GET", "v2/grant_request/%d" % g["id"], params={"cols": '["granted","multi_year"]'})
    assert re.search(r'"granted":\s*true', r.text) and re.search(r'"multi_year":\s*false', r.text), \
        r.text
    v1 = srv.api("GET", "v1/grant_request/%d" % g["id"], params={"style": "full"}).text
    assert re.search(r'"granted":\s*true', v1) and re.search(r'"multi_year":\s*false', v1), v1


def test_float_renders_as_number(srv):
    org = srv.create("organization", {"name": "Float org", "latitude": "48.8566",
                                      "longitude": -2.5})
    rec = srv.fetch("organization", org["id"], cols=["latitude", "longitude"])
    assert float(rec["latitude"]) == 48.8566 and float(rec["longitude"]) == -2.5, rec


def test_state_is_a_string_on_every_class_with_one(srv):
    for cls in ("grant_request", "request_transaction", "request_report", "organization", "user"):
        b = srv.list(cls, cols=["state"], per_page=100)
        for rec in b["records"][cls]:
            if "state" in rec:
                assert isinstance(rec["state"], str), (cls, rec)


def test_secrets_not_in_relation_expansion(srv):
    g = srv.create_grant()
    rec = srv.fetch("grant_request", g["id"], cols=["state"],
                    relation={"created_by": ["login", "mfa_otp_key", "mfa_sms_token"]})
    exp = rec.get("created_by")
    assert exp and exp[0]["id"] == srv.user_ids["admin"], rec
    assert "mfa_otp_key" not in exp[0] and "mfa_sms_token" not in exp[0], exp


def test_masking_applies_to_routing_numbers_and_relations(srv):
    org = srv.grant_template()["program_organization_id"]
    b = srv.create("bank_account", {"account_number": "5555666677", "bank_name": "Routing Bank",
                                    "account_name": "Main", "owner_organization_id": org,
                                    "domestic_wire_aba_routing": "021000021"})
    rec = srv.fetch("bank_account", b["id"], role="employee",
                    cols=["account_number", "domestic_wire_aba_routing"])
    assert rec == {"id": b["id"], "account_number": "****6677",
                   "domestic_wire_aba_routing": "****0021"}, rec
    rec = srv.fetch("bank_account", b["id"], role="admin",
                    cols=["account_number", "domestic_wire_aba_routing"])
    assert rec["account_number"] == "5555666677" and rec["domestic_wire_aba_routing"] == "021000021"
    # Through a relation expansion and a v1 answer too.
    r = srv.api("GET", "v2/organization/%d" % org, role="employee",
                params={"cols": '["name"]',
                        "relation": '{"bank_accounts":["account_number","domestic_wire_aba_routing"]}'})
    assert r.status_code == 200, r.text
    assert "5555666677" not in r.text and "021000021" not in r.text, r.text
    assert "****6677" in r.text, r.text
    r = srv.api("GET", "v1/bank_account/%d" % b["id"], role="employee", params={"style": "full"})
    assert "5555666677" not in r.text and "021000021" not in r.text
    # A list answer as employee.
    r = srv.api("GET", "v2/bank_account", role="employee",
                params={"per_page": 500, "cols": '["account_number"]'})
    assert "5555666677" not in r.text
