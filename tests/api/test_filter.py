"""Contract §4 `filter`: groups, the comparison operators, null tests, ranges, bare triples, the
basic forms, and the 103 errors. Expected ids are computed from the stored rows as `grantd
probe` prints them (decimals as exact text, read here as Decimal; datetimes as
YYYY-MM-DDTHH:MM:SSZ, which order as text; dates 'YYYY-MM-DD').

Not covered here (a later issue): relative-date operators, contains/like/starts_with,
cross-class filters, `query`, aggregation."""

import json
from decimal import Decimal

import pytest

from grantd_harness import assert_error, jparse

pytestmark = pytest.mark.params

DECIMALS = ("amount_requested", "amount_recommended")


def rows(srv):
    """Live grant requests, their decimal amounts as Decimal."""
    out = srv.q("SELECT * FROM grant_request WHERE deleted_at IS NULL ORDER BY id")
    for r in out:
        for c in DECIMALS:
            if r.get(c) is not None:
                r[c] = Decimal(r[c])
    return out


def txt(d):
    """A Decimal as plain decimal text (no exponent)."""
    return format(d, "f")


def expect(srv, pred):
    return [r["id"] for r in rows(srv) if pred(r)]


def got(srv, flt, method="POST", **kw):
    """All ids matching a filter (every page), asserting a clean answer."""
    ids, page = [], 1
    while True:
        params = {"filter": flt if isinstance(flt, str) else json.dumps(flt), "per_page": 500,
                  "page": page, "cols": '["id"]'}
        params.update(kw)
        if method == "GET":
            r = srv.api("GET", "v2/grant_request", params=params)
        else:
            r = srv.api("POST", "v2/grant_request/list", data=params)
        assert r.status_code == 200, r.text[:500]
        b = jparse(r)
        assert "error" not in b, (flt, b)
        ids += [x["id"] for x in b["records"]["grant_request"]]
        if page >= b["total_pages"]:
            assert b["total_entries"] == len(ids)
            return ids
        page += 1


def states(srv):
    st = sorted({r["state"] for r in rows(srv)})
    assert len(st) >= 3, "the seed should spread grants over several states: %s" % st
    return st


def amounts(srv):
    a = sorted(r["amount_requested"] for r in rows(srv) if r["amount_requested"] is not None)
    assert len(a) >= 20, "the seed should set amount_requested"
    return a


def mid_id(srv):
    ids = [r["id"] for r in rows(srv)]
    return ids[len(ids) // 2]


# ---------------------------------------------------------------- groups

def test_and_group(srv):
    st = states(srv)[0]
    a = amounts(srv)[len(amounts(srv)) // 3]
    flt = {"group_type": "and", "conditions": [["state", "eq", st],
                                               ["amount_requested", "gt", txt(a)]]}
    exp = expect(srv, lambda r: r["state"] == st and r["amount_requested"] is not None
                 and r["amount_requested"] > a)
    assert got(srv, flt) == exp


def test_or_group(srv):
    st = states(srv)
    flt = {"group_type": "or", "conditions": [["state", "eq", st[0]], ["state", "eq", st[1]]]}
    assert got(srv, flt) == expect(srv, lambda r: r["state"] in st[:2])


def test_not_and_group(srv):
    st, m = states(srv)[0], mid_id(srv)
    flt = {"group_type": "not-and", "conditions": [["state", "eq", st], ["id", "lt", m]]}
    assert got(srv, flt) == expect(srv, lambda r: not (r["state"] == st and r["id"] < m))


def test_not_or_group(srv):
    st, m = states(srv)[0], mid_id(srv)
    flt = {"group_type": "not-or", "conditions": [["state", "eq", st], ["id", "lt", m]]}
    assert got(srv, flt) == expect(srv, lambda r: not (r["state"] == st or r["id"] < m))


def test_nested_groups(srv):
    st, m = states(srv), mid_id(srv)
    flt = {"group_type": "and", "conditions": [
        {"group_type": "or", "conditions": [["state", "eq", st[0]], ["state", "eq", st[1]],
                                            ["state", "eq", st[2]]]},
        {"group_type": "not-and", "conditions": [["id", "gte", m],
                                                 {"group_type": "or", "conditions": [
                                                     ["state", "eq", st[1]]]}]},
        ["id", "gt", 0]]}
    exp = expect(srv, lambda r: r["state"] in st[:3] and not (r["id"] >= m and r["state"] == st[1]))
    assert got(srv, flt) == exp


def test_empty_and_group_matches_everything(srv):
    assert got(srv, {"group_type": "and", "conditions": []}) == expect(srv, lambda r: True)


# ---------------------------------------------------------------- operators

def test_eq_not_eq(srv):
    st = states(srv)[1]
    assert got(srv, ["state", "eq", st]) == expect(srv, lambda r: r["state"] == st)
    assert got(srv, ["state", "not-eq", st]) == expect(srv, lambda r: r["state"] != st)


def test_number_comparisons(srv):
    am = amounts(srv)
    a = am[len(am) // 2]
    for op, fn in (("lt", lambda x: x < a), ("lte", lambda x: x <= a), ("gt", lambda x: x > a),
                   ("gte", lambda x: x >= a), ("eq", lambda x: x == a)):
        exp = expect(srv, lambda r: r["amount_requested"] is not None and fn(r["amount_requested"]))
        # operand as a string and as a JSON number
        assert got(srv, ["amount_requested", op, txt(a)]) == exp, op
        num = int(a) if a == a.to_integral_value() else float(a)
        assert got(srv, ["amount_requested", op, num]) == exp, op
    m = mid_id(srv)
    assert got(srv, ["id", "lte", m]) == expect(srv, lambda r: r["id"] <= m)
    assert got(srv, ["id", "gt", str(m)]) == expect(srv, lambda r: r["id"] > m)


def test_decimal_eq_is_exact(srv):
    g = srv.create_grant(data={"amount_requested": "98765.4321"})
    assert got(srv, ["amount_requested", "eq", "98765.4321"]) == \
        expect(srv, lambda r: r["amount_requested"] == Decimal("98765.4321"))
    assert g["id"] in got(srv, ["amount_requested", "eq", "98765.4321"])
    assert g["id"] not in got(srv, ["amount_requested", "eq", "98765.432"])


def _mixed_null_column(srv):
    rs = rows(srv)
    prefer = ["amount_recommended", "fiscal_organization_id", "grant_begins_at",
              "request_received_at", "project_summary"]
    cols = prefer + [c for c in srv.columns("grant_request") if c not in prefer]
    for c in cols:
        if c in ("deleted_at",) or c not in rs[0]:
            continue
        n = sum(r[c] is None for r in rs)
        if 0 < n < len(rs):
            return c
    pytest.fail("no grant_request column is null on some rows and set on others")


def test_null_not_null(srv):
    srv.create_grant(data={"amount_recommended": ""})
    c = _mixed_null_column(srv)
    assert got(srv, [c, "null", "-"]) == expect(srv, lambda r: r[c] is None), c
    assert got(srv, [c, "not-null", "-"]) == expect(srv, lambda r: r[c] is not None), c


def test_range_numbers_inclusive(srv):
    am = amounts(srv)
    lo, hi = am[len(am) // 4], am[3 * len(am) // 4]
    exp = expect(srv, lambda r: r["amount_requested"] is not None
                 and lo <= r["amount_requested"] <= hi)
    assert got(srv, ["amount_requested", "range", "%s - %s" % (txt(lo), txt(hi))]) == exp
    assert any(r["amount_requested"] in (lo, hi) for r in rows(srv) if r["id"] in exp)
    m = mid_id(srv)
    assert got(srv, ["id", "range", "%d - %d" % (m, m + 10)]) == \
        expect(srv, lambda r: m <= r["id"] <= m + 10)


def _datetime_column(srv):
    rs = rows(srv)
    for c in ("request_received_at", "grant_begins_at", "created_at"):
        vals = [r[c] for r in rs if r.get(c) is not None]
        if len(vals) >= 10 and isinstance(vals[0], str) and "T" in vals[0] and \
                len({v[:10] for v in vals}) >= 3:
            return c
    pytest.fail("no datetime column with values spread over several days")


@pytest.mark.parametrize("form", ["us", "iso"])
def test_range_dates_both_forms_inclusive_end_day(srv, form):
    c = _datetime_column(srv)
    rs = rows(srv)
    days = sorted({r[c][:10] for r in rs if r[c] is not None})
    d1, d2 = days[len(days) // 4], days[(3 * len(days)) // 4]
    exp = expect(srv, lambda r: r[c] is not None and d1 <= r[c][:10] <= d2)

    def fmt(d):
        y, m, dd = d.split("-")
        return "%s/%s/%s" % (m, dd, y) if form == "us" else d

    assert got(srv, [c, "range", "%s - %s" % (fmt(d1), fmt(d2))]) == exp, (c, d1, d2)


def test_range_on_plain_datetime_includes_whole_end_day(srv):
    late = srv.create_grant(data={"ofac_run_at": "2019-05-10T23:59:30Z"})
    next_day = srv.create_grant(data={"ofac_run_at": "2019-05-11T00:00:00Z"})
    first = srv.create_grant(data={"ofac_run_at": "2019-05-01T00:00:00Z"})
    before = srv.create_grant(data={"ofac_run_at": "2019-04-30T23:59:59Z"})
    exp = expect(srv, lambda r: r["ofac_run_at"] is not None
                 and "2019-05-01" <= r["ofac_run_at"][:10] <= "2019-05-10")
    for text in ("05/01/2019 - 05/10/2019", "2019-05-01 - 2019-05-10"):
        ids = got(srv, ["ofac_run_at", "range", text])
        assert ids == exp, text
        assert late["id"] in ids and first["id"] in ids, text
        assert next_day["id"] not in ids and before["id"] not in ids, text


def test_date_range_on_date_column(srv):
    """A `date` column (fx_date_1 holds 'YYYY-MM-DD')."""
    a = srv.create_grant(data={"fx_date_1": "2019-03-01"})
    b = srv.create_grant(data={"fx_date_1": "2019-03-31"})
    c = srv.create_grant(data={"fx_date_1": "2019-04-01"})
    assert srv.q("SELECT fx_date_1 FROM grant_request WHERE id=?", a["id"])[0]["fx_date_1"] \
        == "2019-03-01"
    exp = expect(srv, lambda r: r["fx_date_1"] is not None
                 and "2019-03-01" <= r["fx_date_1"] <= "2019-03-31")
    assert got(srv, ["fx_date_1", "range", "03/01/2019 - 03/31/2019"]) == exp
    assert got(srv, ["fx_date_1", "range", "2019-03-01 - 2019-03-31"]) == exp
    assert a["id"] in exp and b["id"] in exp and c["id"] not in exp
    assert got(srv, ["fx_date_1", "eq", "2019-04-01"]) == \
        expect(srv, lambda r: r["fx_date_1"] == "2019-04-01")


def test_boolean_operands(srv):
    g1 = srv.create_grant(data={"granted": True})
    g0 = srv.create_grant(data={"granted": False})
    t = expect(srv, lambda r: r["granted"] == 1)
    f = expect(srv, lambda r: r["granted"] == 0)
    assert g1["id"] in t and g0["id"] in f
    for v in (True, 1, "1", "true"):
        assert got(srv, ["granted", "eq", v]) == t, v
    for v in (False, 0, "0", "false"):
        assert got(srv, ["granted", "eq", v]) == f, v


def test_bare_triple_is_an_and_group(srv):
    st = states(srv)[0]
    assert got(srv, ["state", "eq", st]) == \
        got(srv, {"group_type": "and", "conditions": [["state", "eq", st]]}) == \
        expect(srv, lambda r: r["state"] == st)


# ---------------------------------------------------------------- basic forms

def test_basic_form_nested_class_key(srv):
    st = states(srv)
    prog = rows(srv)[0]["program_id"]
    flt = {"grant_request": {"state": [st[0], st[1]], "program_id": prog}}
    assert got(srv, flt) == expect(srv, lambda r: r["state"] in st[:2] and r["program_id"] == prog)
    flt = {"grant_request": {"state": st[2]}}
    assert got(srv, flt) == expect(srv, lambda r: r["state"] == st[2])


def test_basic_form_flat(srv):
    st = states(srv)
    prog = rows(srv)[0]["program_id"]
    flt = {"state": [st[0], st[1]], "program_id": [prog]}
    assert got(srv, flt) == expect(srv, lambda r: r["state"] in st[:2] and r["program_id"] == prog)


def test_basic_form_rails_keys_on_get(srv):
    st = states(srv)
    prog = rows(srv)[0]["program_id"]
    params = [("filter[grant_request][state][]", st[0]), ("filter[grant_request][state][]", st[1]),
              ("filter[grant_request][program_id]", str(prog)), ("per_page", "500"),
              ("cols", '["id"]')]
    r = srv.api("GET", "v2/grant_request", params=params)
    assert r.status_code == 200, r.text[:300]
    b = jparse(r)
    assert [x["id"] for x in b["records"]["grant_request"]] == \
        expect(srv, lambda r: r["state"] in st[:2] and r["program_id"] == prog)


def test_filter_on_get_lists(srv):
    st = states(srv)[0]
    flt = {"group_type": "or", "conditions": [["state", "eq", st], ["id", "lt", mid_id(srv)]]}
    assert got(srv, flt, method="GET") == got(srv, flt) == \
        expect(srv, lambda r: r["state"] == st or r["id"] < mid_id(srv))


# ---------------------------------------------------------------- errors

BAD_FILTERS = [
    ("unknown field", ["no_such_field", "eq", 1], "no_such_field"),
    ("unknown field in group", {"group_type": "and", "conditions": [["state", "eq", "new"],
                                                                    ["bogus_col", "eq", 1]]},
     "bogus_col"),
    ("unknown field basic", {"grant_request": {"nonexistent_thing": [1]}}, "nonexistent_thing"),
    ("unknown operator", ["state", "frobs", "x"], "frobs"),
    ("bad group type", {"group_type": "xor", "conditions": [["state", "eq", "new"]]}, "xor"),
    ("conditions not a list", {"group_type": "and", "conditions": "state"}, None),
    ("missing conditions", {"group_type": "and"}, None),
    ("short triple", ["state", "eq"], None),
    ("long triple", ["state", "eq", "new", "extra"], None),
    ("condition not array", {"group_type": "and", "conditions": [42]}, None),
    ("number operand not a number", ["amount_requested", "gt", "lots"], "lots"),
    ("id operand not an integer", ["id", "eq", "abc"], "abc"),
    ("bad range", ["amount_requested", "range", "10 to 20"], None),
    ("bad date range", ["created_at", "range", "13/45/2019 - 01/01/2020"], None),
    ("boolean operand", ["granted", "eq", "maybe"], "maybe"),
    ("operator not for the type", ["amount_requested", "range-year-cal", "2019"], None),
    ("date operator on a number", ["amount_requested", "today", "-"], None),
    ("null operand for eq", ["amount_requested", "eq", None], None),
    ("object operand", ["state", "eq", {"a": 1}], None),
    ("secret field", ["created_by", "filter", {"group_type": "and", "conditions": [
        ["mfa_otp_key", "eq", "x"]]}], None),
    ("not a JSON value", 'this is not json', None),
    ("malformed JSON", '{"group_type":"and","conditions":[', None),
]


@pytest.mark.parametrize("name,flt,needle", BAD_FILTERS, ids=[b[0] for b in BAD_FILTERS])
def test_bad_filter_103(srv, name, flt, needle):
    text = flt if isinstance(flt, str) else json.dumps(flt)
    with srv.unchanged():
        for r in (srv.api("POST", "v2/grant_request/list", data={"filter": text}),
                  srv.api("GET", "v2/grant_request", params={"filter": text})):
            err = assert_error(r, 103)
            if needle:
                assert needle in err["message"], err


@pytest.mark.parametrize("param,value", [
    ("cols", '["state",'), ("cols", "state"), ("relation", '{"program_id":'),
    ("sort", '["id"'), ("filter", '{"group_type":'), ("relation", '["program_id"]')])
def test_malformed_json_parameters_103(srv, param, value):
    with srv.unchanged():
        err = assert_error(srv.api("GET", "v2/grant_request", params={param: value}), 103)
        assert param in err["message"], err
        assert_error(srv.api("POST", "v2/grant_request/list", data={param: value}), 103)
