"""The change log and the change feed (GET /api/rest/v2/changes): every committed write of a
record leaves one entry, numbered without gaps in commit order; failed writes leave none;
the feed pages through them with a cursor, with each record's current values. Runs on
every engine (the PostgreSQL engine numbers entries when a reader asks)."""

import json
import threading
import time

import pytest

import grantd_harness as H
from grantd_harness import assert_error, jparse, run_cli

pytestmark = [pytest.mark.slow]

FEED = "/api/rest/v2/changes"


def feed(s, role="admin", **params):
    r = s.api("GET", FEED, role=role, params=params)
    assert r.status_code == 200, r.text[:1000]
    b = jparse(r)
    assert "error" not in b, b
    return b


def follow(s, since, limit=1000, **params):
    """Every change after `since`, page by page; and the last cursor."""
    out = []
    while True:
        b = feed(s, since=since, limit=limit, **params)
        out += b["changes"]
        assert b["next_cursor"] >= since
        if b["changes"]:
            assert b["next_cursor"] == b["changes"][-1]["seq"]
        since = b["next_cursor"]
        if not b["has_more"]:
            return out, since


def head(s):
    return feed(s, limit=1)["head"]


@pytest.fixture(scope="module")
def site(request):
    s = H.Server("changes")
    s.start()
    yield s
    s.stop()


def test_cli_users_are_logged_first(site):
    changes, last = follow(site, 0)
    assert [c["seq"] for c in changes] == list(range(1, last + 1))
    users = [c for c in changes if c["class"] == "user"]
    assert {c["id"] for c in users} == set(site.user_ids.values())
    assert all(c["operation"] == "create" and "login" in c["fields"] for c in users)
    # the grantee's organization link
    links = [c for c in changes if c["class"] == "user_organization"]
    assert len(links) == 1 and links[0]["fields"] == ["user_id", "organization_id"], links


def test_create_update_delete_in_order_with_current_values(site):
    h0 = head(site)
    org = site.create("organization", {"name": "Changelog Org"})
    site.update("organization", org["id"], {"name": "Changelog Org 2"})
    changes, last = follow(site, h0, cols=json.dumps(["name"]))
    mine = [c for c in changes if c["class"] == "organization" and c["id"] == org["id"]]
    assert [c["operation"] for c in mine] == ["create", "update"], changes
    assert "name" in mine[0]["fields"] and mine[1]["fields"] == ["name"], mine
    # each entry shows the record as it is now
    assert all(c["record"] == {"id": org["id"], "name": "Changelog Org 2"} for c in mine), mine
    assert all(c["at"].endswith("Z") and abs(H.unix_time(c["at"]) - time.time()) < 120
               for c in mine)
    assert [c["seq"] for c in changes] == list(range(h0 + 1, last + 1))
    # a state change logs the record's update and its workflow event, in that order
    tx = site.q("SELECT id FROM request_transaction WHERE deleted_at IS NULL AND state='due' "
                "ORDER BY id LIMIT 1")[0]["id"]
    h1 = last
    site.update("request_transaction", tx, {"state": "paid", "paid_at": "2026-12-08"},
                role="employee")
    changes, last = follow(site, h1)
    assert [(c["class"], c["operation"]) for c in changes] == [
        ("request_transaction", "update"), ("workflow_event", "create")], changes
    assert sorted(changes[0]["fields"]) == ["paid_at", "state"]
    assert changes[0]["record"]["state"] == "paid"
    ev = changes[1]["record"]
    assert ev["workflowable_id"] == tx and ev["new_state"] == "paid", ev
    # a delete: a tombstone, also on the record's earlier entries
    site.delete("organization", org["id"])
    changes, last2 = follow(site, h0)
    mine = [c for c in changes if c["class"] == "organization" and c["id"] == org["id"]]
    assert [c["operation"] for c in mine] == ["create", "update", "delete"], mine
    assert mine[2]["fields"] == ["deleted_at"]
    assert all(c["record"] is None and c["deleted"] is True for c in mine), mine
    # deleting it again changes nothing, and logs nothing
    r = site.api("DELETE", "v2/organization/%d" % org["id"])
    assert r.status_code == 200
    assert head(site) == last2


def test_failed_writes_leave_no_entry(site):
    h0 = head(site)
    g = site.q("SELECT id FROM grant_request WHERE deleted_at IS NULL ORDER BY id LIMIT 1")[0]["id"]
    attempts = [
        (100, 200, lambda: site.write("PUT", "grant_request", g, {"amount_requested": "abc"})),
        (100, 200, lambda: site.write("PUT", "grant_request", g, {"state": "no_such_state_xyz"})),
        (102, 200, lambda: site.write("PUT", "grant_request", 999999999, {"project_summary": "x"})),
        (403, 403, lambda: site.write("PUT", "grant_request", g, {"project_summary": "x"},
                                      role="developer")),
        (103, 200, lambda: site.api("POST", "v2/organization", data={"data": "{not json"})),
    ]
    for code, status, attempt in attempts:
        with site.unchanged():
            assert_error(attempt(), code, status)
        assert head(site) == h0, "a refused write left a change-log entry (error %s)" % code


@pytest.mark.parametrize("role,ok", [("admin", True), ("super_user", True),
                                     ("developer", True), ("employee", False),
                                     ("grantee", False)])
def test_feed_roles(site, role, ok):
    r = site.api("GET", FEED, role=role, params={"limit": 5})
    if ok:
        assert r.status_code == 200 and "changes" in jparse(r), r.text[:300]
    else:
        err = assert_error(r, 403, 403)
        assert "change feed" in err["message"], err


def test_feed_needs_a_token(site):
    r = site.api("GET", FEED, role=None)
    assert_error(r, 401, 401)
    r = site.api("POST", FEED)
    assert r.status_code == 405


def test_feed_records_follow_the_readers_policy(site):
    """The feed renders records through the same policy as fetches (a developer sees bank
    numbers masked)."""
    h0 = head(site)
    tx = site.q("SELECT id FROM request_transaction WHERE deleted_at IS NULL ORDER BY id "
                "LIMIT 1")[0]["id"]
    site.update("request_transaction", tx, {"comment": "seen through the feed"})
    a = feed(site, since=h0, role="admin")["changes"]
    d = feed(site, since=h0, role="developer")["changes"]
    assert [c["seq"] for c in a] == [c["seq"] for c in d] == [h0 + 1]
    assert a[0]["record"] == site.fetch("request_transaction", tx)
    assert d[0]["record"] == site.fetch("request_transaction", tx, role="developer")


@pytest.mark.parametrize("params", [
    {"since": "-1"}, {"since": "abc"}, {"since": "1.5"}, {"since": ""},
    {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"limit": "-5"},
])
def test_bad_feed_parameters(site, params):
    with site.unchanged():
        err = assert_error(site.api("GET", FEED, params=params), 103)
    assert ("since" in err["message"]) == ("since" in params), err


def test_cursor_past_the_head_is_gone(site):
    h = head(site)
    err = assert_error(site.api("GET", FEED, params={"since": h + 1}), 410, 410)
    assert "resynchron" in err["message"] or "copy the records again" in err["message"], err
    assert str(h) in err["message"]


def test_paging_has_no_gap_or_repeat(site):
    h0 = head(site)
    for i in range(9):
        site.create("organization", {"name": "page %d" % i})
    whole, last = follow(site, h0)
    assert len(whole) == 18  # each create: the record and its workflow event
    for limit in (1, 4, 7):
        paged, end = follow(site, h0, limit=limit)
        assert end == last
        assert [c["seq"] for c in paged] == [c["seq"] for c in whole]
    b = feed(site, since=h0, limit=4)
    assert b["has_more"] is True and b["next_cursor"] == h0 + 4 and b["head"] == last


def test_concurrent_writers_gap_free_and_nothing_missed(site):
    """Writers on several connections while a reader follows the feed: the reader sees
    every committed change exactly once, in an order with no gap; what it saw never
    changes afterwards."""
    h0 = head(site)
    orgs = [site.create("organization", {"name": "race %d" % i})["id"] for i in range(4)]
    h1 = head(site)
    ok = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n):
        tok = site.new_token("admin")
        for i in range(15):
            oid = orgs[(n + i) % len(orgs)]
            r = site.api("PUT", "v2/organization/%d" % oid, token=tok,
                         data={"data": json.dumps({"name": "w%d-%d" % (n, i)})})
            if r.status_code == 200 and "error" not in jparse(r):
                with lock:
                    ok.append(oid)

    seen = []
    errors = []

    def reader():
        cur = h1
        tok = site.new_token("developer")
        while True:
            done = stop.is_set()
            r = site.api("GET", FEED, token=tok, params={"since": cur, "limit": 7})
            b = jparse(r)
            if "error" in b:
                errors.append(b)
                return
            seen.extend((c["seq"], c["class"], c["id"], c["operation"]) for c in b["changes"])
            cur = b["next_cursor"]
            if done and not b["has_more"]:
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    rd = threading.Thread(target=reader)
    rd.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    rd.join(120)
    assert not errors, errors
    final, last = follow(site, h1)
    assert [c["seq"] for c in final] == list(range(h1 + 1, last + 1))
    assert seen == [(c["seq"], c["class"], c["id"], c["operation"]) for c in final]
    updates = [c["id"] for c in final if c["class"] == "organization"]
    assert sorted(updates) == sorted(ok), "each acknowledged write is logged once"
    assert h1 > h0


def test_prune_keeps_the_newest_and_old_cursors_are_gone(make_server):
    s = make_server("changes-prune", grants=5)
    for i in range(3):
        s.create("organization", {"name": "prune %d" % i})
    h = head(s)
    out = run_cli(["changes", "prune", "--db", s.db_path, "--before", "2999-01-01T00:00:00Z"])
    assert out.stdout.strip() == "dropped=%d" % (h - 1), out.stdout
    err = assert_error(s.api("GET", FEED, params={"since": 0}), 410, 410)
    assert "copy the records again" in err["message"] and str(h - 1) in err["message"], err
    assert_error(s.api("GET", FEED, params={"since": h - 2}), 410, 410)
    b = feed(s, since=h - 1)
    assert [c["seq"] for c in b["changes"]] == [h]
    assert feed(s, since=h)["changes"] == []
    # numbering goes on after the pruned entries
    s.create("organization", {"name": "after prune"})
    b = feed(s, since=h)
    assert [c["seq"] for c in b["changes"]] == [h + 1, h + 2]
    # the CLI prints the same log
    lines = run_cli(["changes", "--db", s.db_path, "--since", str(h)]).stdout.splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [h + 1, h + 2]


def test_writes_survive_a_restart_with_their_numbers(make_server):
    s = make_server("changes-restart", grants=5)
    s.create("organization", {"name": "before restart"})
    before, last = follow(s, 0)
    s.kill()
    s.start()
    again, last2 = follow(s, 0)
    assert again == before and last2 == last
    s.create("organization", {"name": "after restart"})
    after, _ = follow(s, last)
    assert [c["seq"] for c in after] == [last + 1, last + 2]
