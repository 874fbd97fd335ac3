"""Typed values end to end, on either engine: decimals (scale 4 and 8), datetimes, dates and
booleans, of catalogue fields and of site-defined fields, written through the API, read
back exactly, filtered, sorted and summed. On PostgreSQL the columns under them are typed
(numeric, timestamptz, date, boolean), so SQL readers (psql, Power BI, Tableau) see money
as exact decimals and times as times (docs/architecture.md, "Typed columns")."""
import json
from decimal import Decimal

import pytest

import grantd_harness as H

SITE_FIELDS = {"panel_budget": "decimal", "panel_met_at": "datetime", "panel_day": "date",
               "panel_ok": "boolean", "panel_seats": "integer"}


@pytest.fixture(scope="module")
def typed():
    s = H.Server("typed", grants=5)
    s.start()
    for name, kind in SITE_FIELDS.items():
        s.create("model_attribute", {"model_type": "GrantRequest", "name": name,
                                     "attribute_type": kind})
    yield s
    s.stop()


def _grant(s, **data):
    return s.create_grant(data=data)["id"]


def test_values_round_trip_exactly(typed):
    s = typed
    data = {"amount_requested": "99999999999.9999", "amount_recommended": "-0.0001",
            "fx_rate1": "1.23456789", "ofac_run_at": "1969-07-20T20:17:40Z",
            "fx_date_1": "0001-01-01", "panel_budget": "12345678901.2345",
            "panel_met_at": "2026-12-07T23:59:59+01:00", "panel_day": "9999-12-31",
            "panel_ok": True, "panel_seats": -7}
    gid = _grant(s, **data)
    rec = s.fetch("grant_request", gid, cols=list(data))
    assert Decimal(str(rec["amount_requested"])) == Decimal("99999999999.9999")
    assert Decimal(str(rec["amount_recommended"])) == Decimal("-0.0001")
    assert Decimal(str(rec["fx_rate1"])) == Decimal("1.23456789")
    assert rec["ofac_run_at"] == "1969-07-20T20:17:40Z"
    assert rec["fx_date_1"] == "0001-01-01"
    assert Decimal(str(rec["panel_budget"])) == Decimal("12345678901.2345")
    assert rec["panel_met_at"] == "2026-12-07T22:59:59Z"
    assert rec["panel_day"] == "9999-12-31"
    assert rec["panel_ok"] is True and rec["panel_seats"] == -7
    # an update of each writes the new value, and false stays false (not null)
    s.update("grant_request", gid, {"panel_ok": False, "amount_requested": "0.5",
                                    "panel_met_at": "2000-02-29", "fx_date_1": "2024-02-29"})
    rec = s.fetch("grant_request", gid, cols=["panel_ok", "amount_requested", "panel_met_at",
                                              "fx_date_1"])
    assert rec["panel_ok"] is False and Decimal(str(rec["amount_requested"])) == Decimal("0.5")
    assert rec["panel_met_at"] == "2000-02-29T00:00:00Z" and rec["fx_date_1"] == "2024-02-29"


def test_filters_and_sorts_compare_typed_values(typed):
    s = typed
    tag = "tc%d" % id(s)
    a = _grant(s, project_summary=tag, panel_budget="10.5", panel_met_at="2026-01-01T00:00:00Z",
               panel_ok=True, panel_day="2026-03-01", fx_rate1="0.00000001")
    b = _grant(s, project_summary=tag, panel_budget="10.4999", panel_met_at="2025-12-31T23:59:59Z",
               panel_ok=False, panel_day="2026-02-28", fx_rate1="0.00000002")

    def ids(flt, **kw):
        return s.list_ids("grant_request", query=tag, filter=json.dumps(flt), **kw)

    assert ids(["panel_budget", "gt", "10.4999"]) == [a]
    assert ids(["panel_budget", "eq", 10.5]) == [a]
    assert ids(["panel_met_at", "lt", "2026-01-01T00:00:00Z"]) == [b]
    assert ids(["panel_ok", "eq", False]) == [b]
    assert ids(["panel_ok", "eq", True]) == [a]
    assert ids(["panel_day", "gte", "2026-03-01"]) == [a]
    assert ids(["fx_rate1", "gt", "0.00000001"]) == [b]
    assert ids(["created_at", "gt", "2000-01-01"], sort=["panel_budget", "asc"]) == [b, a]
    assert s.list_ids("grant_request", query=tag, sort=["panel_met_at", "desc"]) == [a, b]


def test_aggregates_are_exact(typed):
    s = typed
    tag = "ag%d" % id(s)
    for v in ("0.0001", "99999999999.9999", "12.3456"):
        _grant(s, project_summary=tag, panel_budget=v, amount_requested=v, panel_ok=True)
    b = s.list("grant_request", query=tag, aggregation={"panel_budget": "sum",
                                                         "amount_requested": "avg",
                                                         "panel_ok": "max"})
    row = b["records"]["grant_request"][0]
    assert Decimal(str(row["panel_budget_sum"])) == Decimal("100000000012.3456")
    assert Decimal(str(row["amount_requested_avg"])) == Decimal("33333333337.4485")
    assert row["panel_ok_max"] is True


@pytest.mark.postgresql_only
def test_postgresql_columns_carry_their_types(typed):
    s = typed
    want = {"amount_requested": ("numeric", 4), "fx_rate1": ("numeric", 8),
            "created_at": ("timestamp with time zone", None), "granted": ("boolean", None),
            "fx_date_1": ("date", None), "id": ("bigint", 0),
            "panel_budget": ("numeric", 4), "panel_met_at": ("timestamp with time zone", None),
            "panel_day": ("date", None), "panel_ok": ("boolean", None),
            "panel_seats": ("bigint", 0)}
    rows = s.q("SELECT column_name AS c, data_type AS t, numeric_scale AS n FROM "
               "information_schema.columns WHERE table_schema = current_schema() AND "
               "table_name = 'grant_request'")
    got = {r["c"]: (r["t"], r["n"]) for r in rows if r["c"] in want}
    assert got == want
    gid = _grant(s, amount_requested="24500", panel_budget="0.1",
                 panel_met_at="2026-12-07T10:00:00Z")
    # what a SQL reader sees: exact decimals and times, no scaled integers
    row = s.q("SELECT CAST(amount_requested AS text) AS a, CAST(panel_budget AS text) AS b, "
              "to_char(panel_met_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS m "
              "FROM grant_request WHERE id = ?", gid)[0]
    assert row == {"a": "24500.0000", "b": "0.1000", "m": "2026-12-07 10:00"}
    total = s.q("SELECT CAST(sum(amount_requested) AS text) AS s FROM grant_request "
                "WHERE deleted_at IS NULL")[0]["s"]
    api = s.list("grant_request", aggregation={"amount_requested": "sum"})
    assert Decimal(total) == Decimal(str(api["records"]["grant_request"][0]
                                         ["amount_requested_sum"]))


def test_a_deleted_fields_name_comes_back_only_with_its_type(typed):
    """A deleted site-defined field leaves its column and values (a new field of that name
    and type reuses both); a new field of another type under that name is refused, since
    the column keeps the old type (typed on PostgreSQL) and the old values."""
    s = typed
    ma = s.create("model_attribute", {"model_type": "GrantRequest", "name": "panel_was",
                                      "attribute_type": "decimal"})
    gid = _grant(s, panel_was="7.25")
    s.delete("model_attribute", ma["id"])
    before = s.snapshot()
    r = s.write("POST", "model_attribute", None, {"model_type": "GrantRequest",
                                                  "name": "panel_was", "attribute_type": "date"})
    err = H.assert_error(r, 100)  # a validation error, as Fluxx sends it
    assert err["details"] == [{"field": "attribute_type", "problem": err["details"][0]["problem"]}]
    assert "must be decimal" in err["details"][0]["problem"], err
    assert s.snapshot() == before  # nothing written
    s.create("model_attribute", {"model_type": "GrantRequest", "name": "panel_was",
                                 "attribute_type": "decimal"})
    rec = s.fetch("grant_request", gid, cols=["panel_was"])
    assert Decimal(str(rec["panel_was"])) == Decimal("7.25")
