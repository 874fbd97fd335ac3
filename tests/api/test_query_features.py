"""Issue 3: full-text `query`, aggregation, site-defined (dynamic) attributes and
multi-value fields, deleted records listing. Runs against servers of its own."""

import json
import uuid
from decimal import Decimal, ROUND_HALF_EVEN

import pytest

import grantd_harness as H
from grantd_harness import jparse, assert_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = H.Server("queryfeat", grants=150, random_seed=11)
    s.start()
    yield s
    s.stop()


# ---------------------------------------------------------------- full-text query


def test_write_is_searchable_by_the_very_next_request(site):
    word = "zq" + uuid.uuid4().hex[:10]
    g = site.create_grant(data={"project_summary": "Community orchard %s pilot" % word})
    ids = site.list_ids("grant_request", query=word)
    assert ids == [g["id"]]
    # prefix on the last word, case and accents folded, words AND-ed
    assert site.list_ids("grant_request", query=word[:6].upper()) == [g["id"]]
    assert site.list_ids("grant_request", query="orchard " + word) == [g["id"]]
    assert site.list_ids("grant_request", query="orchard nosuchwordzz " + word) == []
    site.update("grant_request", g["id"], {"project_summary": "renamed entirely"})
    assert site.list_ids("grant_request", query=word) == []
    site.update("grant_request", g["id"], {"project_summary": "Café %s" % word})
    assert site.list_ids("grant_request", query="cafe " + word) == [g["id"]]


@pytest.mark.parametrize("hostile", ["covid-19", '"', "title:x", "*", "NEAR(", "a AND OR",
                                     "-", "((", "\u00e9\"\u00e9", "x' OR '1'='1"])
def test_hostile_input_is_ordinary_text(site, hostile):
    r = site.api("GET", "v2/grant_request", params={"query": hostile, "per_page": 5})
    assert r.status_code == 200
    b = jparse(r)
    assert "error" not in b, b
    assert "records" in b


def test_query_combines_with_filter_sort_and_paging(site):
    word = "qx" + uuid.uuid4().hex[:8]
    made = [site.create_grant(data={"project_summary": "%s number %d" % (word, i),
                                    "amount_requested": str(1000 + i)})["id"]
            for i in range(5)]
    flt = json.dumps({"group_type": "and", "conditions": [["amount_requested", "gte", "1002"]]})
    b = site.list("grant_request", query=word, filter=flt, sort=["amount_requested", "desc"],
                  per_page=2, page=1)
    assert b["total_entries"] == 3
    assert [r["id"] for r in b["records"]["grant_request"]] == [made[4], made[3]]
    b2 = site.list("grant_request", query=word, filter=flt, sort=["amount_requested", "desc"],
                   per_page=2, page=2)
    assert [r["id"] for r in b2["records"]["grant_request"]] == [made[2]]


def test_deleted_records_leave_full_text_results(site):
    word = "dl" + uuid.uuid4().hex[:8]
    g = site.create_grant(data={"project_summary": word})
    site.delete("grant_request", g["id"])
    assert site.list_ids("grant_request", query=word) == []
    assert site.list_ids("grant_request", query=word, deleted="include") == [g["id"]]
    assert site.list_ids("grant_request", query=word, deleted="only") == [g["id"]]


# ---------------------------------------------------------------- aggregation


def expected_groups(site, where="deleted_at IS NULL"):
    rows = site.q("SELECT program_id, amount_recommended, amount_requested FROM grant_request "
                  "WHERE " + where)
    out = {}
    for r in rows:
        g = out.setdefault(r["program_id"], {"n": 0, "sum": Decimal(0), "req": []})
        g["n"] += 1
        g["sum"] += Decimal(r["amount_recommended"] or 0)
        if r["amount_requested"] is not None:
            g["req"].append(Decimal(r["amount_requested"]))
    return out


def test_aggregation_sums_counts_and_averages_exactly(site):
    r = site.api("GET", "v2/grant_request", params={
        "group": json.dumps(["program_id"]),
        "aggregation": json.dumps({"amount_recommended": "sum", "id": "count",
                                   "amount_requested": "avg"}),
        "per_page": 500})
    b = jparse(r)
    assert "error" not in b, b
    groups = b["records"]["grant_request"]
    exp = expected_groups(site)
    assert b["total_entries"] == len(exp)
    assert [g["program_id"] for g in groups] == sorted(exp, key=lambda k: (k is not None, k))
    for g in groups:
        e = exp[g["program_id"]]
        assert g["id_count"] == e["n"]
        assert Decimal(str(g["amount_recommended_sum"])) == e["sum"]
        if e["req"]:
            avg = (sum(e["req"]) / len(e["req"])).quantize(
                Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
            assert Decimal(str(g["amount_requested_avg"])) == avg
    # key order inside a group: group keys, then aggregates in request order
    assert list(groups[0].keys()) == ["program_id", "amount_recommended_sum", "id_count",
                                      "amount_requested_avg"]


def test_aggregation_by_related_field_with_filter(site):
    flt = json.dumps(["state", "eq", "granted"])
    b = site.list("grant_request", group=["program_organization.geo_country_id", "state"],
                  aggregation={"id": "count"}, filter=flt, per_page=500)
    rows = site.q("SELECT o.geo_country_id AS c, count(*) AS n FROM grant_request g LEFT JOIN "
                  "organization o ON o.id = g.program_organization_id AND o.deleted_at IS NULL "
                  "WHERE g.deleted_at IS NULL AND g.state = 'granted' GROUP BY 1")
    got = {g["program_organization.geo_country_id"]: g["id_count"]
           for g in b["records"]["grant_request"]}
    assert got == {r["c"]: r["n"] for r in rows}
    assert all(g["state"] == "granted" for g in b["records"]["grant_request"])


def test_aggregation_pages_groups(site):
    b1 = site.list("grant_request", group=["state"], aggregation={"id": "count"}, per_page=2)
    n = site.q("SELECT count(DISTINCT state) AS n FROM grant_request WHERE deleted_at IS NULL")
    assert b1["total_entries"] == n[0]["n"]
    assert b1["total_pages"] == -(-n[0]["n"] // 2)
    assert len(b1["records"]["grant_request"]) == 2


@pytest.mark.parametrize("params", [
    {"group": '["project_summary_nope"]'},
    {"group": '["amount_requested"]'},                      # decimal: not groupable
    {"group": '["state"]', "aggregation": '{"state":"sum"}'},  # sum of a string
    {"group": '["state"]', "aggregation": '{"id":"median"}'},
    {"group": '["nope.name"]'},
    {"group": "[oops"},
    {"aggregation": '{"amount_requested":"sum"'},
])
def test_aggregation_errors_are_103(site, params):
    before = site.snapshot()
    r = site.api("GET", "v2/grant_request", params=params)
    assert_error(r, 103)
    assert site.snapshot() == before


# ---------------------------------------------------------------- dynamic attributes


def test_dynamic_attribute_lifecycle_survives_restart(tmp_path):
    s = H.Server("dynattr", grants=30, random_seed=3)
    s.start()
    try:
        ma = s.create("model_attribute", {"model_type": "GrantRequest", "name": "board_meeting",
                                          "attribute_type": "string"})
        s.create("model_attribute", {"model_type": "GrantRequest", "name": "score",
                                     "attribute_type": "integer"})
        ids = s.list_ids("grant_request", per_page=5)[:3]
        for i, gid in enumerate(ids):
            s.update("grant_request", gid, {"board_meeting": "M%d" % i, "score": 10 - i})
        rec = s.fetch("grant_request", ids[0], cols=["board_meeting", "score"])
        assert rec == {"id": ids[0], "board_meeting": "M0", "score": 10}
        flt = json.dumps(["score", "gte", 9])
        assert s.list_ids("grant_request", filter=flt) == ids[:2]
        got = s.list("grant_request", sort=["score", "asc"], cols=["score"],
                      filter=json.dumps(["score", "not-null", "-"]))
        assert [r["id"] for r in got["records"]["grant_request"]] == list(reversed(ids))
        dyn = s.fetch("grant_request", ids[1], all_dynamic=1)
        assert dyn["board_meeting"] == "M1" and dyn["score"] == 9
        # v1 style=full carries site-defined fields; detail does not
        assert "board_meeting" in s.fetch("grant_request", ids[1], v="v1", style="full")
        assert "board_meeting" not in s.fetch("grant_request", ids[1], v="v1")
        # a second attribute of the same name is a validation error; identity is fixed
        r = s.write("POST", "model_attribute", None, {"model_type": "GrantRequest",
                                                     "name": "board_meeting",
                                                     "attribute_type": "string"})
        assert_error(r, 100)
        r = s.write("PUT", "model_attribute", ma["id"], {"name": "renamed"})
        assert_error(r, 100)
        s.stop()
        s.start()
        rec = s.fetch("grant_request", ids[2], cols=["board_meeting", "score"])
        assert rec == {"id": ids[2], "board_meeting": "M2", "score": 8}
        # deleting the attribute removes the field at once
        s.delete("model_attribute", ma["id"])
        r = s.api("GET", "v2/grant_request", params={"filter": '["board_meeting","eq","M0"]'})
        assert_error(r, 103)
    finally:
        s.stop()


def test_dynamic_attribute_validation(site):
    for data in [{"model_type": "NoSuchClass", "name": "x1", "attribute_type": "string"},
                 {"model_type": "GrantRequest", "name": "Bad Name", "attribute_type": "string"},
                 {"model_type": "GrantRequest", "name": "state", "attribute_type": "string"},
                 {"model_type": "GrantRequest", "name": "okname", "attribute_type": "blob"}]:
        before = site.snapshot()
        r = site.write("POST", "model_attribute", None, data)
        assert_error(r, 100)
        assert site.snapshot() == before


def test_model_attribute_is_admin_only(site):
    for role in ("super_user", "employee"):
        r = site.write("POST", "model_attribute", None,
                       {"model_type": "GrantRequest", "name": "x_" + role,
                        "attribute_type": "string"}, role=role)
        assert r.status_code == 403


def test_multi_value_renderings(site):
    name = "regions_" + uuid.uuid4().hex[:6]
    ma = site.create("model_attribute", {"model_type": "GrantRequest", "name": name,
                                         "attribute_type": "multi_value"})
    root = site.create("model_attribute_value", {"model_attribute_id": ma["id"],
                                                 "value": "North America",
                                                 "description": "NA"})
    leaf = site.create("model_attribute_value", {"model_attribute_id": ma["id"], "value": "West",
                                                 "dependent_model_attribute_value_id": root["id"]})
    other = site.create("model_attribute_value", {"model_attribute_id": ma["id"],
                                                  "value": "Europe"})
    gid = site.list_ids("grant_request", per_page=1)[0]
    site.create("model_attribute_choice", {"model_attribute_id": ma["id"], "model_id": gid,
                                           "model_attribute_value_id": leaf["id"],
                                           "amount_value": "50"})
    site.create("model_attribute_choice", {"model_attribute_id": ma["id"], "model_id": gid,
                                           "model_attribute_value_id": other["id"]})
    plain = site.fetch("grant_request", gid, cols=[name])[name]
    assert plain == ["West", "Europe"]
    enhanced = site.fetch("grant_request", gid, cols=[name], enhanced_mavs="true")[name]
    assert enhanced == ["North America||West", "Europe"]
    shown = site.fetch("grant_request", gid, cols=[name], show_mavs="true")[name]
    assert shown == [[{"id": root["id"], "desc": "NA", "val": "North America"},
                      {"id": leaf["id"], "desc": "West", "val": "West", "amount_value": 50}],
                     [{"id": other["id"], "desc": "Europe", "val": "Europe"}]]
    r = site.api("GET", "v2/grant_request", params={"filter": json.dumps([name, "eq", "West"])})
    assert_error(r, 103)


# ---------------------------------------------------------------- computed fields


def test_computed_fields_render_filter_and_sort(site):
    paid = {}  # request id -> sum of its live transactions' amount_paid (exact, here)
    for x in site.q("SELECT request_id, amount_paid FROM request_transaction "
                    "WHERE deleted_at IS NULL AND amount_paid IS NOT NULL"):
        paid[x["request_id"]] = paid.get(x["request_id"], Decimal(0)) + Decimal(x["amount_paid"])
    rows = site.q("SELECT g.id, o.name AS org FROM grant_request g LEFT JOIN organization o "
                  "ON o.id = g.program_organization_id WHERE g.deleted_at IS NULL "
                  "ORDER BY g.id LIMIT 40")
    recs = {r["id"]: r for r in site.list(
        "grant_request", per_page=40, cols=["program_org_name", "amount_paids",
                                            "state_to_english", "state"])
        ["records"]["grant_request"]}
    for r in rows:
        rec = recs[r["id"]]
        assert rec.get("program_org_name") == r["org"]
        assert Decimal(str(rec["amount_paids"])) == paid.get(r["id"], 0)
        st = rec["state"]
        assert rec["state_to_english"] == (st[0].upper() + st[1:]).replace("_", " ")
    org = rows[0]["org"]
    flt = json.dumps(["program_org_name", "eq", org])
    expect = [r["id"] for r in site.q(
        "SELECT g.id FROM grant_request g JOIN organization o ON o.id = "
        "g.program_organization_id WHERE g.deleted_at IS NULL AND o.name = ? ORDER BY g.id", org)]
    assert site.list_ids("grant_request", filter=flt) == expect
    top = site.list("grant_request", sort=["amount_paids", "desc"], per_page=3,
                    cols=["amount_paids"])["records"]["grant_request"]
    vals = [Decimal(str(r["amount_paids"])) for r in top]
    assert vals == sorted(vals, reverse=True)
    assert vals[0] == max(paid.values())
    # computed fields are read-only: a write names them in X-Ignored-Fields
    gid = rows[0]["id"]
    r = site.write("PUT", "grant_request", gid, {"program_org_name": "x"})
    assert "program_org_name" in r.headers.get("X-Ignored-Fields", "")
