"""Issue 6: the shortcuts behind `total_entries` stay exact. Filtered and full-text counts
are cached per database state (src/countcache.c), full text of live and soft-deleted
records lives in two indexes (src/store_sqlite_schema.c), and lists by foreign key and state read
composite indexes. Every test here checks the answers against the database itself, read
through `grantd probe`; the tests about SQLite's own full-text tables and query plans are
marked sqlite_only."""

import json
import time
import uuid

import pytest

import grantd_harness as H

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    s = H.Server("counts", grants=200, random_seed=5)
    s.start()
    yield s
    s.stop()


def flt(*conds):
    return json.dumps({"group_type": "and", "conditions": [list(c) for c in conds]})


def total(site, **params):
    return site.list("grant_request", per_page=1, **params)["total_entries"]


def db_count(site, where, *args):
    return site.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NULL AND " + where,
                  *args)[0]["n"]


def test_filtered_count_follows_every_write_of_the_server(site):
    t = site.grant_template()
    org, state = t["program_organization_id"], "new"
    f = flt(["program_organization_id", "eq", org], ["state", "eq", state])
    n0 = db_count(site, "program_organization_id = ? AND state = ?", org, state)
    for method in ("GET", "POST"):  # the same count asked twice: the second may be cached
        assert site.list("grant_request", method=method, filter=f)["total_entries"] == n0
        assert site.list("grant_request", method=method, filter=f)["total_entries"] == n0
    g = site.create_grant(data={"program_organization_id": org})
    assert g["state"] == state
    assert total(site, filter=f) == n0 + 1
    site.delete("grant_request", g["id"])
    assert total(site, filter=f) == n0
    assert total(site, filter=f, deleted="include") == n0 + 1 + site.q(
        "SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NOT NULL AND "
        "program_organization_id = ? AND state = ? AND id <> ?", org, state, g["id"])[0]["n"]
    assert n0 == db_count(site, "program_organization_id = ? AND state = ?", org, state)


def test_count_follows_a_commit_of_another_process(site):
    """A cached count is of one database state: a commit by another process (here `grantd
    user add`, twice) is seen by the next count as the server's own commits are."""
    f = flt(["role", "eq", "employee"])

    def stored():
        return site.q('SELECT count(*) AS n FROM "user" WHERE deleted_at IS NULL AND role = ?',
                      "employee")[0]["n"]

    def listed():
        return [u["login"] for u in site.list("user", filter=f, cols=["login"],
                                               per_page=500)["records"]["user"]]

    n0 = stored()
    assert site.list("user", per_page=1, filter=f)["total_entries"] == n0
    assert site.list("user", per_page=1, filter=f)["total_entries"] == n0
    for k in (1, 2):
        login = "cnt_%s_%d" % (uuid.uuid4().hex[:6], k)
        H.run_cli(["user", "add", login, "--role", "employee", "--db", site.db_path,
                   "--password-stdin"], stdin=H.PASSWORD + "\n")
        assert site.list("user", per_page=1, filter=f)["total_entries"] == n0 + k == stored()
        assert login in listed()


def test_many_distinct_counts_stay_exact(site):
    """More distinct filters than the cache holds, each asked twice around a write."""
    ids = [r["id"] for r in site.q("SELECT id FROM grant_request WHERE deleted_at IS NULL "
                                   "ORDER BY id LIMIT 300")]
    for lo in ids[:300:1]:
        f = flt(["id", "gte", lo])
        assert total(site, filter=f) == db_count(site, "id >= ?", lo)
    g = site.create_grant()
    for lo in ids[::7]:
        f = flt(["id", "gte", lo])
        assert total(site, filter=f) == db_count(site, "id >= ?", lo)
    assert total(site, filter=flt(["id", "gte", g["id"]])) == 1


def test_fulltext_counts_live_deleted_and_both(site):
    word = "ct" + uuid.uuid4().hex[:8]
    made = [site.create_grant(data={"project_summary": "%s item %d" % (word, i)})["id"]
            for i in range(4)]
    assert total(site, query=word) == 4
    site.delete("grant_request", made[0])
    assert total(site, query=word) == 3
    assert total(site, query=word, deleted="only") == 1
    assert total(site, query=word, deleted="include") == 4
    assert site.list_ids("grant_request", query=word, deleted="only") == [made[0]]
    assert site.list_ids("grant_request", query=word, deleted="include") == made
    # a deleted record's text stays searchable among the deleted, and follows edits
    site.update("grant_request", made[0], {"project_summary": "renamed " + word + "x"})
    assert site.list_ids("grant_request", query=word + "x", deleted="only") == [made[0]]
    assert site.list_ids("grant_request", query=word + "x") == []


@pytest.mark.sqlite_only
def test_fulltext_follows_a_restore_by_another_process(site):
    """SQLite's full-text indexes are kept by triggers, so a record restored by a plain UPDATE
    of another process (the API has no undelete) moves back to the live index."""
    word = "rs" + uuid.uuid4().hex[:8]
    made = [site.create_grant(data={"project_summary": "%s item %d" % (word, i)})["id"]
            for i in range(4)]
    site.delete("grant_request", made[0])
    site.update("grant_request", made[0], {"project_summary": "renamed " + word + "x"})
    assert site.list_ids("grant_request", query=word + "x", deleted="only") == [made[0]]
    site.sqlite_only_write(("UPDATE grant_request SET deleted_at = NULL WHERE id = ?",
                            (made[0],)))
    assert site.list_ids("grant_request", query=word + "x") == [made[0]]
    assert total(site, query=word, deleted="only") == 0
    assert total(site, query=word) == 4


def test_fulltext_survives_updates_of_other_columns(site):
    word = "nu" + uuid.uuid4().hex[:8]
    g = site.create_grant(data={"project_summary": "orchard " + word})
    site.update("grant_request", g["id"], {"amount_requested": "777.25"})
    assert site.list_ids("grant_request", query=word) == [g["id"]]


@pytest.mark.sqlite_only
def test_fulltext_update_keeps_one_live_index_entry(site):
    """SQLite's FTS5 tables: an update of other columns leaves the record's one entry in the
    live index and none in the index of deleted records."""
    word = "nv" + uuid.uuid4().hex[:8]
    g = site.create_grant(data={"project_summary": "orchard " + word})
    site.update("grant_request", g["id"], {"amount_requested": "777.25"})
    assert site.q("SELECT count(*) AS n FROM grant_request__fts WHERE rowid = ?",
                  g["id"])[0]["n"] == 1
    assert site.q("SELECT count(*) AS n FROM grant_request__fts_deleted WHERE rowid = ?",
                  g["id"])[0]["n"] == 0


def test_fulltext_with_filter_and_scope_counts_through_the_records(site):
    word = "fs" + uuid.uuid4().hex[:8]
    a = site.create_grant(data={"project_summary": word, "amount_requested": "10"})
    site.create_grant(data={"project_summary": word, "amount_requested": "20"})
    f = flt(["amount_requested", "lt", "15"])
    assert total(site, query=word, filter=f) == 1
    assert site.list_ids("grant_request", query=word, filter=f) == [a["id"]]


@pytest.mark.sqlite_only
def test_lists_by_foreign_key_and_state_read_an_index(site):
    """SQLite's planner's choice for the commonest list shapes: no table scan, and no sort when
    every indexed column is given (a foreign key alone leaves the state open)."""
    for where, sorted_ in (
            ("program_organization_id = 1 AND state = 'granted' AND deleted_at IS NULL", 1),
            ("program_id = 1 AND state = 'new' AND deleted_at IS NULL", 1),
            ("state = 'granted' AND deleted_at IS NULL", 1),
            ("program_id = 1 AND deleted_at IS NULL", 0)):
        plan = " ".join(r["detail"] for r in site.q(
            "EXPLAIN QUERY PLAN SELECT id, project_summary FROM grant_request WHERE %s "
            "ORDER BY id LIMIT 25" % where))
        assert "USING INDEX" in plan, (where, plan)
        assert ("TEMP B-TREE" not in plan) == bool(sorted_), (where, plan)
        plan = " ".join(r["detail"] for r in site.q(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM grant_request WHERE %s" % where))
        assert "COVERING INDEX" in plan, (where, plan)


@pytest.mark.sqlite_only
def test_upgrade_moves_deleted_records_out_of_the_live_index(tmp_path):
    """A migration of SQLite's own full-text tables: a database from before the live and
    deleted indexes were split is rewritten at start."""
    s = H.Server("ftsupgrade", grants=40, random_seed=3)
    s.start()
    try:
        word = "up" + uuid.uuid4().hex[:8]
        g = s.create_grant(data={"project_summary": word})
        s.delete("grant_request", g["id"])
    finally:
        s.stop()
    # the schema before the split: deleted records in the one index, no second table
    s.sqlite_only_write("DROP TABLE grant_request__fts_deleted",
                        ("INSERT INTO grant_request__fts(rowid, body) VALUES(?, ?)",
                         (g["id"], word)))
    s.start()
    try:
        assert s.list_ids("grant_request", query=word) == []
        assert s.list_ids("grant_request", query=word, deleted="only") == [g["id"]]
        assert s.q("SELECT count(*) AS n FROM grant_request__fts WHERE rowid = ?",
                   g["id"])[0]["n"] == 0
    finally:
        s.stop()


def test_incremental_sync_pages_few_recent_changes_in_id_order(site):
    """`updated_at` after the last run: few matches, sorted by id, exact totals; a page
    past the end is empty with the true totals."""
    ids = [r["id"] for r in site.q("SELECT id FROM grant_request WHERE deleted_at IS NULL "
                                   "ORDER BY id LIMIT 3")]
    mark = H.unix_time(site.q("SELECT updated_at FROM grant_request ORDER BY updated_at DESC "
                              "LIMIT 1")[0]["updated_at"])
    time.sleep(1.1)
    for rid in reversed(ids):
        site.update("grant_request", rid, {"amount_requested": "4242"})
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mark + 1))
    f = flt(["updated_at", "gte", since])
    b = site.list("grant_request", filter=f, per_page=2)
    assert b["total_entries"] == 3 and b["total_pages"] == 2
    assert [r["id"] for r in b["records"]["grant_request"]] == ids[:2]
    b = site.list("grant_request", filter=f, per_page=2, page=2)
    assert [r["id"] for r in b["records"]["grant_request"]] == ids[2:]
    b = site.list("grant_request", filter=f, per_page=2, page=3)
    assert b["records"]["grant_request"] == [] and b["total_entries"] == 3
    none = flt(["updated_at", "gt", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                   time.gmtime(time.time() + 86400))])
    b = site.list("grant_request", filter=none)
    assert b["records"]["grant_request"] == [] and b["total_entries"] == 0
    assert b["total_pages"] == 1


def test_list_relation_expansion_matches_fetch(site):
    """A list page expands relations in one query per relation; each record must read as
    its fetch does: shared targets, a missing key, a deleted target."""
    t = site.grant_template()
    org = site.create("organization", {"name": "Batch Org " + uuid.uuid4().hex[:6]})
    mine = [site.create_grant(data={"program_organization_id": org["id"]})["id"]
            for _ in range(3)]
    site.delete("organization", org["id"])  # two of them now point at a deleted record
    shared = site.create_grant(data={"program_organization_id": t["program_organization_id"]})
    rel = {"program_organization_id": ["name", "city"], "program_id": ["name"]}
    cols = ["state", "program_organization_id", "program_id"]
    for per in (2, 25, 500):
        b = site.list("grant_request", cols=cols, relation=rel, per_page=per,
                      sort=["id", "desc"])
        recs = b["records"]["grant_request"]
        assert len(recs) == min(per, b["total_entries"])
        for rec in recs:
            assert rec == site.fetch("grant_request", rec["id"], cols=cols, relation=rel), rec
    recs = site.list("grant_request", cols=cols, relation=rel,
                     filter=json.dumps({"group_type": "or", "conditions": [
                         ["id", "eq", i] for i in mine + [shared["id"]]]}))["records"]["grant_request"]
    assert [r["id"] for r in recs] == mine + [shared["id"]]
    for r in recs[:3]:
        assert r["program_organization_id"] == []
    assert recs[3]["program_organization_id"][0]["id"] == t["program_organization_id"]


def test_fulltext_alone_pages_in_id_order(site):
    word = "pg" + uuid.uuid4().hex[:8]
    made = [site.create_grant(data={"project_summary": "%s n%d" % (word, i)})["id"]
            for i in range(7)]
    site.delete("grant_request", made[3])
    live = made[:3] + made[4:]
    got = []
    for page in (1, 2, 3, 4):
        b = site.list("grant_request", query=word, per_page=2, page=page)
        assert b["total_entries"] == 6 and b["total_pages"] == 3
        got += [r["id"] for r in b["records"]["grant_request"]]
    assert got == live
    b = site.list("grant_request", query=word, per_page=2, page=2, sort=["id", "desc"])
    assert [r["id"] for r in b["records"]["grant_request"]] == live[::-1][2:4]
