"""Idempotent retries: a write with an Idempotency-Key is answered once; a repeat of the
same request gets the stored answer and writes nothing; the key with another request is
refused (code 100, reason idempotency_mismatch); keys are per client."""

import json
import threading

import pytest

from grantd_harness import assert_error, jparse

pytestmark = [pytest.mark.writes]

ORG = "organization"


def post(s, data, key=None, role="admin", token=None, cls=ORG):
    h = {"Idempotency-Key": key} if key is not None else {}
    return s.api("POST", "v2/%s" % cls, role=role, token=token, headers=h,
                 data={"data": json.dumps(data)})


def named(s, name):
    return s.q("SELECT id FROM organization WHERE name = ?", name)


def changes_head(s):
    r = s.api("GET", "/api/rest/v2/changes", params={"limit": 1})
    return jparse(r)["head"]


def test_repeat_gets_the_stored_answer_and_writes_nothing(srv):
    h0 = changes_head(srv)
    first = post(srv, {"name": "idem once"}, key="create-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    h1 = changes_head(srv)
    with srv.unchanged():
        again = post(srv, {"name": "idem once"}, key="create-1")
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.text == first.text and again.headers["ETag"] == first.headers["ETag"]
    assert len(named(srv, "idem once")) == 1
    assert changes_head(srv) == h1 > h0


def test_same_key_other_request_is_refused(srv):
    post(srv, {"name": "idem a"}, key="mismatch-1")
    for other in ({"name": "idem b"}, {"name": "idem a", "city": "Lyon"}):
        with srv.unchanged():
            r = post(srv, other, key="mismatch-1")
            err = assert_error(r, 100)
        assert err.get("reason") == "idempotency_mismatch", err
    with srv.unchanged():  # the same body to another path is another request too
        r = srv.api("POST", "v1/organization", headers={"Idempotency-Key": "mismatch-1"},
                    data={"data": json.dumps({"name": "idem a"})})
        assert_error(r, 100)


def test_mismatch_is_422_under_error_status_http(make_server):
    s = make_server("idem-http", grants=5, config={"error_status": "http"})
    post(s, {"name": "x"}, key="k")
    with s.unchanged():
        err = assert_error(post(s, {"name": "y"}, key="k"), 100, 422)
    assert err["reason"] == "idempotency_mismatch"


def test_keys_are_per_client(srv):
    a = post(srv, {"name": "idem per client"}, key="shared-key", role="admin")
    b = post(srv, {"name": "idem per client"}, key="shared-key", role="admin2")
    assert a.status_code == b.status_code == 200
    assert jparse(a)[ORG]["id"] != jparse(b)[ORG]["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_update_and_delete_are_idempotent(srv):
    rid = jparse(post(srv, {"name": "idem upd"}))[ORG]["id"]
    h = {"Idempotency-Key": "upd-1"}
    r1 = srv.api("PUT", "v2/%s/%d" % (ORG, rid), headers=h,
                 data={"data": json.dumps({"name": "idem upd 2"})})
    with srv.unchanged():
        r2 = srv.api("PUT", "v2/%s/%d" % (ORG, rid), headers=h,
                     data={"data": json.dumps({"name": "idem upd 2"})})
    assert r1.text == r2.text and r1.headers["ETag"] == r2.headers["ETag"] == '"v1"'
    assert r2.headers["Idempotent-Replayed"] == "true"
    d = {"Idempotency-Key": "del-1"}
    assert srv.api("DELETE", "v2/%s/%d" % (ORG, rid), headers=d).text == "true"
    with srv.unchanged():
        r = srv.api("DELETE", "v2/%s/%d" % (ORG, rid), headers=d)
    assert r.text == "true" and r.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
def test_bad_keys_are_refused(srv, key):
    with srv.unchanged():
        r = srv.api("POST", "v2/organization",
                    headers={"Idempotency-Key": key.encode("utf-8")},
                    data={"data": json.dumps({"name": "bad key"})})
        err = assert_error(r, 103)
    assert "Idempotency-Key" in err["message"]


def test_a_refused_write_is_not_stored(srv):
    bad = {"name": "idem fails", "primary_user_id": 999999999}
    for _ in range(2):
        with srv.unchanged():
            r = post(srv, bad, key="fails-first")
            assert_error(r, 100)
            assert "Idempotent-Replayed" not in r.headers
    ok = post(srv, {"name": "idem fails"}, key="fails-first")
    assert ok.status_code == 200 and "error" not in jparse(ok)


def test_concurrent_repeats_write_once(srv):
    """Eight copies of one request at once: one record; every answer is the stored one,
    or 409 (a copy that ran while the first was uncommitted) whose retry gets it."""
    for round_ in range(3):
        key, name = "race-%d" % round_, "idem race %d" % round_
        out = [None] * 8
        toks = [srv.token("admin")] * 8

        def go(i):
            out[i] = post(srv, {"name": name}, key=key, token=toks[i])

        ts = [threading.Thread(target=go, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert len(named(srv, name)) == 1
        ok = [r for r in out if r.status_code == 200]
        assert ok and all(r.text == ok[0].text for r in ok)
        for r in out:
            if r.status_code != 200:
                assert_error(r, 409, 409)
        retry = post(srv, {"name": name}, key=key)
        assert retry.text == ok[0].text


@pytest.mark.durability
def test_the_stored_answer_survives_kill_9(make_server):
    s = make_server("idem-kill", grants=5)
    first = post(s, {"name": "idem durable"}, key="durable-1")
    assert first.status_code == 200
    s.kill()
    s.start()
    again = post(s, {"name": "idem durable"}, key="durable-1")
    assert again.text == first.text and again.headers["Idempotent-Replayed"] == "true"
    assert len(named(s, "idem durable")) == 1
