"""Optimistic locking: a record's version is its ETag ("v<N>") on fetch and write answers;
If-Match on an update or delete that names another version is 412 and changes nothing; a
site can require If-Match on a class's writes (require_if_match, 428 without it)."""

import json
import threading

import pytest

from grantd_harness import assert_error, jparse, run_cli

pytestmark = [pytest.mark.writes]

ORG = "organization"


def etag(r):
    v = r.headers.get("ETag")
    assert v and v.startswith('"v') and v.endswith('"'), r.headers
    return v


def new_org(s, name="precondition"):
    r = s.write("POST", ORG, None, {"name": name})
    assert r.status_code == 200, r.text
    return jparse(r)[ORG]["id"], etag(r)


def put(s, rid, data, if_match=None, role="admin", cls=ORG, token=None):
    h = {"If-Match": if_match} if if_match is not None else {}
    return s.api("PUT", "v2/%s/%d" % (cls, rid), role=role, token=token, headers=h,
                 data={"data": json.dumps(data)})


def test_etag_on_fetch_create_and_update(srv):
    rid, tag = new_org(srv)
    assert tag == '"v0"'
    for v in ("v1", "v2"):
        r = srv.api("GET", "%s/%s/%d" % (v, ORG, rid))
        assert r.status_code == 200 and etag(r) == '"v0"'
    r = put(srv, rid, {"name": "one"})
    assert r.status_code == 200 and etag(r) == '"v1"'
    r = put(srv, rid, {"name": "two"}, if_match='"v1"')
    assert r.status_code == 200 and etag(r) == '"v2"'
    assert etag(srv.api("GET", "v2/%s/%d" % (ORG, rid))) == '"v2"'
    # HEAD carries it too; a list does not (it is many records)
    assert etag(srv.api("HEAD", "v2/%s/%d" % (ORG, rid))) == '"v2"'
    assert "ETag" not in srv.api("GET", "v2/%s" % ORG, params={"per_page": 2}).headers


def test_stale_if_match_is_412_and_changes_nothing(srv):
    rid, _ = new_org(srv)
    assert put(srv, rid, {"name": "fresh"}).status_code == 200  # now v1
    for stale in ('"v0"', '"v7"', 'W/"v1"', '"1"', 'v1', '"v0", "v2"'):
        with srv.unchanged():
            err = assert_error(put(srv, rid, {"name": "lost update"}, if_match=stale), 412, 412)
        assert '"v1"' in err["message"] and "fetch it again" in err["message"], err
    assert srv.fetch(ORG, rid)["name"] == "fresh"
    # the current version, in a list, or * goes through
    assert put(srv, rid, {"name": "a"}, if_match='"v0", "v1"').status_code == 200
    assert put(srv, rid, {"name": "b"}, if_match="*").status_code == 200
    r = put(srv, rid, {"name": "c"}, if_match='"v3"')
    assert r.status_code == 200 and etag(r) == '"v4"'


def test_412_comes_before_validation_and_after_404(srv):
    rid, _ = new_org(srv)
    with srv.unchanged():
        assert_error(put(srv, rid, {"no_such_field_x": 1, "name": ""}, if_match='"v9"'), 412,
                     412)
        assert_error(put(srv, 999999999, {"name": "x"}, if_match='"v0"'), 102)


def test_delete_with_if_match(srv):
    rid, _ = new_org(srv)
    with srv.unchanged():
        assert_error(srv.api("DELETE", "v2/%s/%d" % (ORG, rid), headers={"If-Match": '"v5"'}),
                     412, 412)
    r = srv.api("DELETE", "v2/%s/%d" % (ORG, rid), headers={"If-Match": '"v0"'})
    assert r.status_code == 200 and r.text == "true"
    assert srv.q("SELECT deleted_at FROM organization WHERE id = ?", rid)[0]["deleted_at"]


def test_concurrent_editors_one_wins(srv):
    """Two clients read the same version and write at once: one succeeds, the other gets
    412, never both (a lost update)."""
    for round_ in range(6):
        rid, tag = new_org(srv, "race %d" % round_)
        toks = [srv.new_token("admin"), srv.new_token("admin2")]
        out = [None, None]

        def go(i):
            out[i] = put(srv, rid, {"name": "writer %d" % i}, if_match=tag, token=toks[i])

        ts = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(r.status_code for r in out)
        assert codes == [200, 412], [(r.status_code, r.text[:200]) for r in out]
        winner = [i for i in range(2) if out[i].status_code == 200][0]
        rec = srv.fetch(ORG, rid)
        assert rec["name"] == "writer %d" % winner


def test_site_can_require_if_match(make_server):
    s = make_server("ifmatch", grants=20, config={"require_if_match": "request_transaction"})
    tx = s.q("SELECT id FROM request_transaction WHERE deleted_at IS NULL ORDER BY id "
             "LIMIT 1")[0]["id"]
    with s.unchanged():
        err = assert_error(put(s, tx, {"amount_due": "5"}, cls="request_transaction"), 428, 428)
        assert "If-Match" in err["message"] and "request_transaction" in err["message"]
        assert_error(s.api("DELETE", "v2/request_transaction/%d" % tx), 428, 428)
        assert_error(s.api("PUT", "v1/request_transaction/%d" % tx,
                           data={"data": json.dumps({"amount_due": "5"})}), 428, 428)
    tag = etag(s.api("GET", "v2/request_transaction/%d" % tx))
    r = put(s, tx, {"amount_due": "5"}, cls="request_transaction", if_match=tag)
    assert r.status_code == 200, r.text
    # other classes and creates are not affected
    rid, _ = new_org(s)
    assert put(s, rid, {"name": "free"}).status_code == 200
    # the setting names registry classes only
    bad = run_cli(["config", "--db", s.db_path, "set", "require_if_match", "no_such_class"],
                  check=False)
    assert bad.returncode != 0
    run_cli(["config", "--db", s.db_path, "set", "require_if_match", "none"])


def test_lock_version_is_no_site_defined_field_name(srv):
    with srv.unchanged():
        r = srv.write("POST", "model_attribute", None,
                      {"model_type": "Organization", "name": "lock_version",
                       "attribute_type": "integer"})
        err = assert_error(r, 100)
    assert "reserved" in json.dumps(err), err
