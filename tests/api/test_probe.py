"""`grantd probe`: the read-only look at stored state the other tests read through. Usage
errors exit 2, engine errors 1; a write is refused by the engine (read-only open); class
fields print as the API renders them; `--digest` follows writes and only writes."""

import os
import tempfile
from decimal import Decimal

import pytest

import grantd_harness as H
from grantd_harness import run_cli

pytestmark = pytest.mark.cli


def probe(srv, *args, check=False):
    return run_cli(["probe", "--db", srv.db_path] + list(args), check=check, timeout=60)


@pytest.mark.parametrize("args", [[], ["--tables", "extra"], ["--digest", "--tables"],
                                  ["--columns"], ["--bogus"], ["--all"],
                                  ["SELECT ?", "q:1"], ["SELECT ?"], ["SELECT 1", "i:1"],
                                  ["SELECT ?", "i:x"], ["SELECT ?", "x:abc"],
                                  ["SELECT 1; SELECT 2"]])
def test_usage_errors_exit_2(srv, args):
    p = probe(srv, *args)
    assert p.returncode == 2, (args, p.returncode, p.stderr)
    assert "usage: grantd probe" in p.stderr and p.stdout == "", p.stderr


def test_sql_error_exits_1_with_the_cause(srv):
    p = probe(srv, "SELECT no_such_column FROM grant_request")
    assert p.returncode == 1 and "no_such_column" in p.stderr and p.stdout == "", p.stderr


def test_no_database_exits_1_and_creates_none():
    path = os.path.join(tempfile.mkdtemp(prefix="grantd-probe-"), "none.db")
    p = run_cli(["probe", "--db", path, "--tables"], check=False, timeout=60)
    assert p.returncode == 1 and p.stderr, p
    assert not os.path.exists(path)


def test_writes_are_refused(srv, grant):
    before = srv.snapshot()
    for sql in ("INSERT INTO note(note, created_at, updated_at) VALUES('x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "UPDATE grant_request SET project_summary = 'probed' WHERE id = %d" % grant["id"],
                "DELETE FROM grant_request WHERE id = %d" % grant["id"],
                "DROP TABLE note"):
        p = probe(srv, sql)
        assert p.returncode == 1 and p.stdout == "", (sql, p.returncode, p.stdout)
        assert "readonly" in p.stderr.replace("-", "").replace(" ", ""), (sql, p.stderr)
    assert srv.snapshot() == before
    assert srv.fetch("grant_request", grant["id"],
                     cols=["project_summary"])["project_summary"] != "probed"


def test_class_fields_print_as_the_api_renders_them(srv):
    g = srv.create_grant(data={"amount_requested": "1234567.8912", "amount_recommended": "0.1",
                               "fx_rate1": "1.23456789", "ofac_run_at": "2020-04-07T10:11:12+02:00"})
    cols = ["amount_requested", "amount_recommended", "fx_rate1", "ofac_run_at", "created_at"]
    rows = srv.q("SELECT id, %s, amount_requested * 1 AS computed FROM grant_request WHERE id = ?"
                 % ", ".join(cols), g["id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["amount_requested"] == "1234567.8912"
    assert row["amount_recommended"] == "0.1"
    assert row["fx_rate1"] == "1.23456789"
    assert row["ofac_run_at"] == "2020-04-07T08:11:12Z"
    rec = srv.fetch("grant_request", g["id"], cols=cols)
    for c in cols:
        if isinstance(rec[c], Decimal) or isinstance(rec[c], int):
            assert Decimal(row[c]) == rec[c], c
        else:
            assert row[c] == rec[c], c
    # An expression reads no class field: printed as the engine gives it (SQLite: the
    # stored integer scaled by 10^4; PostgreSQL: the exact numeric, as text).
    if H.ENGINE == "postgresql":
        assert Decimal(row["computed"]) == Decimal("1234567.8912")
    else:
        assert row["computed"] == 12345678912
    assert row["id"] == g["id"] and type(row["id"]) is int


def test_typed_arguments_and_plain_values(srv):
    # PostgreSQL infers an untyped parameter's type from its context (text when there is
    # none): the casts give it one; SQLite keeps the bound value's own type either way.
    rows = srv.q("SELECT CAST(? AS bigint) AS i, CAST(? AS double precision) AS r, ? AS s, "
                 "? AS n, ? AS b", 42, 1.5, "héllo", None, b"\x00\xff")
    assert rows == [{"i": 42, "r": 1.5, "s": "héllo", "n": None, "b": "00ff"}]
    p = probe(srv, "SELECT ? AS t", "s:i:not-an-int", check=True)
    assert H.jparse(p.stdout) == [{"t": "i:not-an-int"}]


def test_tables_and_columns(srv):
    tables = srv.data_tables()
    assert "grant_request" in tables and "user" in tables
    assert not [t for t in tables if t.startswith("grantd_") or "__fts" in t], tables
    every = srv.probe("--tables", "--all")
    assert set(tables) < set(every)
    cols = srv.probe("--columns", "grant_request")
    assert cols[0] == {"name": "id",
                       "type": {"sqlite": "INTEGER", "postgresql": "bigint"}[srv.engine]}
    assert {"amount_requested", "state", "deleted_at"} <= {c["name"] for c in cols}


def test_digest_follows_writes_only(srv):
    d0 = srv.snapshot()
    assert set(d0) == set(srv.data_tables())
    assert all(isinstance(n, int) and len(h) == 64 for n, h in d0.values())
    srv.list("grant_request", per_page=5)
    assert srv.snapshot() == d0
    g = srv.create_grant(data={"project_summary": "digest"})
    d1 = srv.snapshot()
    assert d1["grant_request"][0] == d0["grant_request"][0] + 1
    assert d1["grant_request"][1] != d0["grant_request"][1]
    srv.update("grant_request", g["id"], {"project_summary": "digest 2"})
    d2 = srv.snapshot()
    assert d2["grant_request"][0] == d1["grant_request"][0]
    assert d2["grant_request"][1] != d1["grant_request"][1]
