"""Contract §4 (except the filter grammar, see test_filter.py): parameter transport, cols,
all_core, v1 style, relation, sorting, paging, all, deleted."""

import json
import math
from decimal import Decimal

import pytest
import requests

import grantd_harness as H
from grantd_harness import JSON_CT, assert_error, ignored_fields, jparse

pytestmark = pytest.mark.params


def live(srv, where="1=1", *args, order="id"):
    return srv.q("SELECT * FROM grant_request WHERE deleted_at IS NULL AND (%s) ORDER BY %s"
                 % (where, order), *args)


def ids_of(b, cls="grant_request"):
    return [r["id"] for r in b["records"][cls]]


# ---------------------------------------------------------------- transport of parameters

def test_same_list_through_every_encoding(srv):
    st = live(srv)[0]["state"]
    cols = ["state", "amount_requested"]
    flt = {"group_type": "and", "conditions": [["state", "eq", st]]}
    sort = ["id", "desc"]
    expected = [r["id"] for r in live(srv, "state = ?", st, order="id DESC")][:4]
    assert expected
    as_text = {"cols": json.dumps(cols), "filter": json.dumps(flt), "sort": json.dumps(sort),
               "per_page": "4"}
    auth = {"Authorization": "Bearer " + srv.token()}
    answers = {
        "GET query": srv.session.get(srv.url("v2/grant_request"), params=as_text, headers=auth),
        "GET /list query": srv.session.get(srv.url("v2/grant_request/list"), params=as_text,
                                           headers=auth),
        "POST urlencoded": srv.session.post(srv.url("v2/grant_request/list"), data=as_text,
                                            headers=auth),
        "POST multipart": srv.session.post(srv.url("v2/grant_request/list"), headers=auth,
                                           files={k: (None, v) for k, v in as_text.items()}),
        "POST query only": srv.session.post(srv.url("v2/grant_request/list"), params=as_text,
                                            headers=auth),
        "POST JSON strings": srv.session.post(srv.url("v2/grant_request/list"), json=as_text,
                                              headers=auth),
        "POST JSON structured": srv.session.post(
            srv.url("v2/grant_request/list"), headers=auth,
            json={"cols": cols, "filter": flt, "sort": sort, "per_page": 4}),
    }
    for name, r in answers.items():
        assert r.status_code == 200, (name, r.text[:300])
        b = jparse(r)
        assert "error" not in b, (name, b)
        assert ids_of(b) == expected, name
        assert b["per_page"] == 4, name
        for rec in b["records"]["grant_request"]:
            assert set(rec) <= {"id", "state", "amount_requested"}, (name, rec)
            assert rec["state"] == st, name


def test_rails_nested_keys(srv):
    st = live(srv)[0]["state"]
    expected = [r["id"] for r in live(srv, "state = ?", st)]
    r = srv.api("GET", "v2/grant_request",
                params=[("cols[]", "state"), ("cols[]", "amount_requested"),
                        ("filter[grant_request][state]", st), ("per_page", "500")])
    assert r.status_code == 200, r.text[:300]
    b = jparse(r)
    assert ids_of(b) == expected
    for rec in b["records"]["grant_request"]:
        assert set(rec) <= {"id", "state", "amount_requested"} and rec["state"] == st, rec
    # Nested form keys in a urlencoded body too.
    r = srv.api("POST", "v2/grant_request/list",
                data=[("cols[]", "state"), ("filter[grant_request][state]", st),
                      ("per_page", "500")])
    assert r.status_code == 200 and ids_of(jparse(r)) == expected, r.text[:300]


def test_rails_nested_data_on_update(srv, grant):
    gid = grant["id"]
    r = srv.api("PUT", "v2/grant_request/%d" % gid,
                data={"data[project_summary]": "Ann", "data[amount_requested]": "77.25"})
    assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
    row = srv.q("SELECT project_summary, amount_requested FROM grant_request WHERE id=?", gid)[0]
    assert row["project_summary"] == "Ann"
    assert Decimal(row["amount_requested"]) == Decimal("77.25")


def test_structured_json_data_on_create_and_update(srv, grant):
    gid = grant["id"]
    r = srv.api("PUT", "v2/grant_request/%d" % gid,
                json={"data": {"project_summary": "json body", "amount_requested": 12.5},
                      "cols": ["project_summary"]})
    assert r.status_code == 200, r.text[:300]
    b = jparse(r)
    assert b["grant_request"] == {"id": gid, "project_summary": "json body"}, b
    assert Decimal(srv.q("SELECT amount_requested FROM grant_request WHERE id=?",
                         gid)[0]["amount_requested"]) == Decimal("12.5")
    # data as a JSON string inside a JSON body
    r = srv.api("PATCH", "v2/grant_request/%d" % gid,
                json={"data": json.dumps({"project_summary": "json string"})})
    assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
    assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                 gid)[0]["project_summary"] == "json string"


def test_body_wins_over_query(srv, grant):
    r = srv.api("POST", "v2/grant_request/list", params={"per_page": "5"},
                data={"per_page": "7"})
    assert r.status_code == 200 and jparse(r)["per_page"] == 7, r.text[:300]
    r = srv.api("POST", "v2/grant_request/list", params={"per_page": "5"},
                json={"per_page": 7})
    assert r.status_code == 200 and jparse(r)["per_page"] == 7, r.text[:300]
    gid = grant["id"]
    r = srv.api("PUT", "v2/grant_request/%d" % gid,
                params={"data": json.dumps({"project_summary": "from query"})},
                data={"data": json.dumps({"project_summary": "from body"})})
    assert r.status_code == 200, r.text[:300]
    assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                 gid)[0]["project_summary"] == "from body"


def test_query_only_parameters_on_write(srv, grant):
    """Query-string parameters are honoured on POST/PUT too (priority_index, cols)."""
    gid = grant["id"]
    r = srv.api("PUT", "v2/grant_request/%d" % gid,
                params={"cols": '["project_summary"]', "priority_index": "true"},
                data={"data": json.dumps({"project_summary": "q cols"})})
    assert r.status_code == 200, r.text[:300]
    assert jparse(r)["grant_request"] == {"id": gid, "project_summary": "q cols"}


def test_unknown_parameters_ignored(srv):
    r = srv.api("GET", "v2/grant_request", params={"per_page": 2, "frobnicate": "yes",
                                                   "params[style]": "full"})
    assert r.status_code == 200 and len(ids_of(jparse(r))) == 2, r.text[:300]


def test_duplicate_json_keys_rejected(srv):
    with srv.unchanged():
        r = srv.api("POST", "v2/grant_request/list", data={
            "filter": '{"group_type":"and","group_type":"or","conditions":[]}'})
        assert_error(r, 103)
        r = srv.api("GET", "v2/grant_request",
                    params={"relation": '{"program_organization_id":["name"],'
                                        '"program_organization_id":["city"]}'})
        assert_error(r, 103)


# ---------------------------------------------------------------- cols, all_core

def _nonnull_grant(srv, cols):
    rows = live(srv, " AND ".join("%s IS NOT NULL" % c for c in cols))
    assert rows, "no seeded grant with %s all set" % cols
    return rows[0]


def test_cols_id_first_and_order_kept(srv):
    row = _nonnull_grant(srv, ["state", "amount_requested", "program_id"])
    for cols in (["state", "amount_requested", "program_id"],
                 ["program_id", "id", "state", "amount_requested"],
                 ["amount_requested", "state"]):
        rec = srv.fetch("grant_request", row["id"], cols=cols)
        assert list(rec) == ["id"] + [c for c in cols if c != "id"], (cols, list(rec))
        b = srv.list("grant_request", cols=cols, filter=["id", "eq", row["id"]])
        assert list(b["records"]["grant_request"][0]) == list(rec), cols


def test_cols_unknown_names_ignored_and_listed(srv):
    row = _nonnull_grant(srv, ["state"])
    r = srv.api("GET", "v2/grant_request/%d" % row["id"],
                params={"cols": json.dumps(["state", "no_such_col", "another_missing"])})
    assert r.status_code == 200, r.text
    rec = jparse(r)["grant_request"]
    assert list(rec) == ["id", "state"], rec
    ign = ignored_fields(r)
    assert "no_such_col" in ign and "another_missing" in ign and "state" not in ign, ign
    # Lists too.
    r = srv.api("GET", "v2/grant_request", params={"cols": '["state","zz_top"]', "per_page": 2})
    assert r.status_code == 200 and "zz_top" in ignored_fields(r), r.headers
    # Nothing ignored: no header, or an empty one.
    r = srv.api("GET", "v2/grant_request", params={"cols": '["state"]', "per_page": 2})
    assert ignored_fields(r) == []


@pytest.mark.parametrize("raw", [
    '["state","amount_requested"]',
    ' [ "state" ,\n "amount_requested" ] ',
    '["st\\u0061te","amount_requested"]',           # an escape: the JSON parser's path
    '["state",7,"amount_requested",null]',            # non-strings are skipped
    json.dumps(["state"] + ["nope%d" % i for i in range(70)] + ["amount_requested"]),
])
def test_cols_spellings_render_the_same(srv, raw):
    row = _nonnull_grant(srv, ["state", "amount_requested"])
    r = srv.api("GET", "v2/grant_request/%d" % row["id"], params={"cols": raw})
    assert r.status_code == 200, r.text
    assert list(jparse(r)["grant_request"]) == ["id", "state", "amount_requested"], raw


@pytest.mark.parametrize("raw", ['["state",]', '["state"', '["state"]x', '"state"', "[state]",
                                 '{"a":1}'])
def test_cols_malformed_is_103_and_changes_nothing(srv, raw):
    row = _nonnull_grant(srv, ["state"])
    before = srv.q("SELECT * FROM grant_request WHERE id = ?", row["id"])
    r = srv.api("GET", "v2/grant_request/%d" % row["id"], params={"cols": raw})
    assert_error(r, 103)
    r = srv.api("GET", "v2/grant_request", params={"cols": raw})
    assert_error(r, 103)
    assert srv.q("SELECT * FROM grant_request WHERE id = ?", row["id"]) == before


def _expected_all_columns(srv, row):
    return {c for c, v in row.items() if v is not None}


def test_no_cols_means_all_columns(srv):
    row = srv.grant_template()
    rec = srv.fetch("grant_request", row["id"])
    assert list(rec)[0] == "id"
    assert set(rec) == _expected_all_columns(srv, row), \
        set(rec) ^ _expected_all_columns(srv, row)
    b = srv.list("grant_request", filter=["id", "eq", row["id"]])
    assert b["records"]["grant_request"][0] == rec


@pytest.mark.parametrize("flag", ["1", "true", "TRUE"])
def test_all_core(srv, flag):
    row = srv.grant_template()
    rec = srv.fetch("grant_request", row["id"], all_core=flag)
    assert set(rec) == _expected_all_columns(srv, row)
    rec2 = srv.fetch("grant_request", row["id"], all_core=flag, cols=["created_by"])
    assert set(rec2) >= _expected_all_columns(srv, row)
    r = srv.api("POST", "v2/grant_request/list", json={"all_core": True, "per_page": 1,
                                                       "filter": ["id", "eq", row["id"]]})
    assert set(jparse(r)["records"]["grant_request"][0]) == _expected_all_columns(srv, row)


# ---------------------------------------------------------------- v1 style

def test_v1_styles_nest_and_default_is_detail(srv):
    row = srv.grant_template()
    gid = row["id"]
    compact = srv.fetch("grant_request", gid, v="v1", style="compact")
    detail = srv.fetch("grant_request", gid, v="v1", style="detail")
    full = srv.fetch("grant_request", gid, v="v1", style="full")
    default = srv.fetch("grant_request", gid, v="v1")
    assert compact["id"] == detail["id"] == full["id"] == gid
    assert set(compact) <= set(detail) <= set(full), (set(compact) - set(detail),
                                                      set(detail) - set(full))
    assert len(compact) < len(full)
    assert default == detail
    assert list(full)[0] == "id"


def test_v1_foreign_keys_render_without_id_suffix(srv):
    row = srv.grant_template()
    full = srv.fetch("grant_request", row["id"], v="v1", style="full")
    for fk in ("program_organization_id", "program_id"):
        name = fk[:-3]
        assert fk not in full, (fk, list(full))
        assert full.get(name) == row[fk], (name, full.get(name), row[fk])
    # Lists render the same way.
    b = srv.list("grant_request", v="v1", style="full", filter=["id", "eq", row["id"]])
    assert b["records"]["grant_request"][0] == full


def test_v1_includes_nulls_v2_omits_them(srv):
    row = srv.grant_template()
    nulls = [c for c, v in row.items() if v is None and not c.endswith("_id")]
    assert nulls, "the template grant has no null plain column"
    full = srv.fetch("grant_request", row["id"], v="v1", style="full")
    for c in nulls:
        assert c in full and full[c] is None, (c, full.get(c, "<absent>"))
    v2 = srv.fetch("grant_request", row["id"], cols=nulls + ["state"])
    assert list(v2) == ["id", "state"], v2


# ---------------------------------------------------------------- relation

def test_relation_singular_becomes_array_of_objects(srv):
    row = srv.grant_template()
    org = srv.q("SELECT * FROM organization WHERE id=?", row["program_organization_id"])[0]
    rec = srv.fetch("grant_request", row["id"], cols=["state"],
                    relation={"program_organization_id": ["name", "city"]})
    exp = {"id": org["id"]}
    for f in ("name", "city"):
        if org[f] is not None:
            exp[f] = org[f]
    assert rec["program_organization_id"] == [exp], rec
    assert rec["state"] == row["state"]
    # Relation without cols: the member is there too.
    rec = srv.fetch("grant_request", row["id"], cols=["state"],
                    relation={"program_organization_id": ["name"]})
    assert rec["program_organization_id"][0]["id"] == org["id"]
    # Several keys at once.
    prog = srv.q("SELECT * FROM program WHERE id=?", row["program_id"])[0]
    rec = srv.fetch("grant_request", row["id"], cols=["state"],
                    relation={"program_organization_id": ["name"], "program_id": ["name"]})
    assert rec["program_id"] == [{"id": prog["id"], "name": prog["name"]}], rec
    assert rec["program_organization_id"][0]["name"] == org["name"]


def test_relation_in_lists(srv):
    rows = live(srv, "program_organization_id IS NOT NULL")[:5]
    b = srv.list("grant_request", cols=["state"], per_page=5,
                 filter={"group_type": "or",
                         "conditions": [["id", "eq", r["id"]] for r in rows]},
                 relation={"program_organization_id": ["name"]})
    got = {r["id"]: r["program_organization_id"] for r in b["records"]["grant_request"]}
    for r in rows:
        name = srv.q("SELECT name FROM organization WHERE id=?",
                     r["program_organization_id"])[0]["name"]
        assert got[r["id"]] == [{"id": r["program_organization_id"], "name": name}]


def test_relation_none_is_empty_array(srv):
    g = srv.create_grant(data={"fiscal_organization_id": ""})
    assert srv.q("SELECT fiscal_organization_id FROM grant_request WHERE id=?",
                 g["id"])[0]["fiscal_organization_id"] is None
    rec = srv.fetch("grant_request", g["id"], cols=["state"],
                    relation={"fiscal_organization_id": ["name"]})
    assert rec.get("fiscal_organization_id") == [], rec


def test_relation_plural(srv):
    fk = _transaction_fk(srv)
    by_grant = {}
    for x in srv.q("SELECT %s AS g, id FROM request_transaction WHERE deleted_at IS NULL AND "
                   "%s IS NOT NULL ORDER BY id" % (fk, fk)):
        by_grant.setdefault(x["g"], []).append(x["id"])
    assert by_grant, "seed has no request transactions"
    gid = max(by_grant, key=lambda k: len(by_grant[k]))
    tx = sorted(by_grant[gid])
    rec = srv.fetch("grant_request", gid, cols=["state"],
                    relation={"request_transaction_ids": ["state"]})
    got = rec["request_transaction_ids"]
    assert sorted(o["id"] for o in got) == tx, got
    for o in got:
        assert o["state"] == srv.q("SELECT state FROM request_transaction WHERE id=?",
                                   o["id"])[0]["state"]


def _transaction_fk(srv):
    cols = srv.columns("request_transaction")
    for c in ("request_id", "grant_request_id"):
        if c in cols:
            return c
    pytest.fail("request_transaction has no request_id/grant_request_id column: %s" % cols)


def test_relation_unknown_ignored_and_listed(srv):
    row = srv.grant_template()
    r = srv.api("GET", "v2/grant_request/%d" % row["id"],
                params={"cols": '["state"]',
                        "relation": json.dumps({"no_such_relation": ["name"],
                                                "program_organization_id": ["name"]})})
    assert r.status_code == 200, r.text
    rec = jparse(r)["grant_request"]
    assert "no_such_relation" not in rec
    assert rec["program_organization_id"][0]["id"] == row["program_organization_id"]
    assert "no_such_relation" in ignored_fields(r), r.headers


# ---------------------------------------------------------------- sorting

def test_sort_single_key_both_directions(srv):
    rows = live(srv, "amount_requested IS NOT NULL")
    flt = ["amount_requested", "not-null", "-"]
    asc = srv.list("grant_request", cols=["amount_requested"], filter=flt, per_page=500,
                   sort=["amount_requested", "asc"])["records"]["grant_request"]
    exp = [r["id"] for r in sorted(rows, key=lambda r: (Decimal(r["amount_requested"]), r["id"]))]
    assert [r["id"] for r in asc] == exp
    desc = srv.list("grant_request", cols=["amount_requested"], filter=flt, per_page=500,
                    sort=["amount_requested", "desc"])["records"]["grant_request"]
    vals = [r["amount_requested"] for r in desc]
    assert vals == sorted(vals, reverse=True)
    assert vals == sorted((Decimal(r["amount_requested"]) for r in rows), reverse=True)


def test_sort_default_direction_is_asc(srv):
    b = srv.list("grant_request", cols=["state"], per_page=500, sort=["state"])
    exp = [r["id"] for r in live(srv, order="state, id")]
    assert ids_of(b) == exp[:500]


def test_sort_several_keys_and_ties_on_id(srv):
    rows = live(srv, "amount_requested IS NOT NULL")
    b = srv.list("grant_request", cols=["state", "amount_requested"], per_page=500,
                 filter=["amount_requested", "not-null", "-"],
                 sort=[["state", "asc"], ["amount_requested", "desc"]])
    exp = [r["id"] for r in sorted(rows, key=lambda r: (r["state"], -Decimal(r["amount_requested"]),
                                                        r["id"]))]
    assert ids_of(b) == exp
    # A single low-cardinality key: ties break on ascending id.
    b = srv.list("grant_request", cols=["state"], per_page=500, sort=[["state", "asc"]])
    assert ids_of(b) == [r["id"] for r in live(srv, order="state, id")][:500]


def test_sort_attribute_and_order(srv):
    b = srv.list("grant_request", cols=["state"], per_page=500, sort_attribute="id",
                 sort_order="desc")
    assert ids_of(b) == [r["id"] for r in live(srv, order="id DESC")][:500]
    b = srv.list("grant_request", cols=["state"], per_page=500, sort_attribute="state",
                 sort_order="asc")
    assert ids_of(b) == [r["id"] for r in live(srv, order="state, id")][:500]
    b = srv.list("grant_request", cols=["state"], per_page=500, sort_attribute="state")
    assert ids_of(b) == [r["id"] for r in live(srv, order="state, id")][:500]


def test_sort_default_is_id_asc(srv):
    b = srv.list("grant_request", cols=["state"], per_page=500)
    assert ids_of(b) == [r["id"] for r in live(srv)][:500]


def test_paging_with_sort_is_stable(srv):
    exp = [r["id"] for r in live(srv, order="state, id")]
    got = []
    page = 1
    while True:
        b = srv.list("grant_request", cols=["state"], per_page=7, page=page, sort=["state", "asc"])
        got += ids_of(b)
        if page >= b["total_pages"]:
            break
        page += 1
    assert got == exp


@pytest.mark.parametrize("sort", ['["no_such_field","asc"]', '[["state","asc"],["nope","desc"]]',
                                  '["state","sideways"]', '["state",', '{"state":"asc"}'])
def test_sort_errors_103(srv, sort):
    with srv.unchanged():
        r = srv.api("GET", "v2/grant_request", params={"sort": sort})
        err = assert_error(r, 103)
        r = srv.api("POST", "v2/grant_request/list", data={"sort": sort})
        assert_error(r, 103)
    if "no_such_field" in sort or "nope" in sort:
        assert "no_such_field" in err["message"] or "nope" in err["message"], err


def test_sort_attribute_unknown_103(srv):
    with srv.unchanged():
        err = assert_error(srv.api("GET", "v2/grant_request",
                                   params={"sort_attribute": "bogus_field"}), 103)
    assert "bogus_field" in err["message"]


# ---------------------------------------------------------------- paging

def test_page_and_per_page(srv):
    all_ids = [r["id"] for r in live(srv)]
    n = len(all_ids)
    b = srv.list("grant_request", cols=["state"], per_page=7, page=3)
    assert ids_of(b) == all_ids[14:21]
    assert (b["total_pages"], b["total_entries"], b["current_page"], b["per_page"]) == \
        (math.ceil(n / 7), n, 3, 7)
    b2 = srv.list("grant_request", cols=["state"], per_page=7, current_page=3)
    assert ids_of(b2) == ids_of(b) and b2["current_page"] == 3
    d = srv.list("grant_request", cols=["state"])
    assert d["per_page"] == 25 and d["current_page"] == 1 and ids_of(d) == all_ids[:25]


def test_per_page_clamped_to_500(srv):
    n = len(live(srv))
    b = srv.list("grant_request", cols=["state"], per_page=100000)
    assert b["per_page"] == 500
    assert len(ids_of(b)) == min(n, 500)
    assert b["total_pages"] == max(1, math.ceil(n / 500))


def test_page_past_end(srv):
    n = len(live(srv))
    b = srv.list("grant_request", cols=["state"], per_page=10, page=10000)
    assert ids_of(b) == []
    assert b["total_entries"] == n and b["total_pages"] == math.ceil(n / 10)
    assert b["current_page"] == 10000 and b["per_page"] == 10


def test_empty_result_total_pages_is_1(srv):
    b = srv.list("grant_request", cols=["state"], filter=["id", "lt", 0])
    assert ids_of(b) == [] and b["total_entries"] == 0 and b["total_pages"] == 1
    assert b["current_page"] == 1


@pytest.mark.parametrize("bad", [{"page": "abc"}, {"per_page": "many"}, {"page": "-2"}])
def test_bad_paging_103(srv, bad):
    with srv.unchanged():
        assert_error(srv.api("GET", "v2/grant_request", params=bad), 103)


@pytest.mark.parametrize("flag", ["1", "true"])
def test_all_flag_is_a_noop(srv, flag):
    a = srv.list("grant_request", cols=["state"], per_page=30, page=2)
    b = srv.list("grant_request", cols=["state"], per_page=30, page=2, all=flag)
    assert a == b


# ---------------------------------------------------------------- deleted records

def test_deleted_include_and_only(srv):
    g = srv.create_grant()
    srv.delete("grant_request", g["id"])
    n_live = len(live(srv))
    n_deleted = srv.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NOT NULL")[0]["n"]
    assert n_deleted >= 1
    flt = ["id", "eq", g["id"]]
    assert ids_of(srv.list("grant_request", filter=flt)) == []
    assert ids_of(srv.list("grant_request", filter=flt, deleted="include")) == [g["id"]]
    assert ids_of(srv.list("grant_request", filter=flt, deleted="only")) == [g["id"]]
    b = srv.list("grant_request", cols=["deleted_at"], deleted="include", per_page=1)
    assert b["total_entries"] == n_live + n_deleted
    b = srv.list("grant_request", cols=["deleted_at"], deleted="only", per_page=500)
    assert b["total_entries"] == n_deleted
    for rec in b["records"]["grant_request"]:
        assert rec.get("deleted_at"), rec
    rec = [x for x in b["records"]["grant_request"] if x["id"] == g["id"]][0]
    assert rec["deleted_at"] == srv.q("SELECT deleted_at FROM grant_request WHERE id=?",
                                      g["id"])[0]["deleted_at"]


def test_v1_relation_takes_a_style(srv):
    row = srv.grant_template()
    org = row["program_organization_id"]
    compact = srv.fetch("organization", org, v="v1", style="compact")
    rec = srv.fetch("grant_request", row["id"], v="v1", style="compact",
                    relation={"program_organization_id": "compact"})
    member = rec.get("program_organization_id", rec.get("program_organization"))
    assert isinstance(member, list) and len(member) == 1, rec
    assert member[0]["id"] == org
    assert set(member[0]) == set(compact), (set(member[0]) ^ set(compact))


def test_relation_unknown_subfield_ignored(srv):
    row = srv.grant_template()
    r = srv.api("GET", "v2/grant_request/%d" % row["id"],
                params={"cols": '["state"]',
                        "relation": '{"program_organization_id":["name","no_such_org_field"]}'})
    assert r.status_code == 200, r.text
    rec = jparse(r)["grant_request"]
    assert rec["program_organization_id"][0]["id"] == row["program_organization_id"], rec
    assert "no_such_org_field" not in rec["program_organization_id"][0]
