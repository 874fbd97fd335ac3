"""Contract §3: the route table for v1 and v2, class name spellings, unknown classes and ids."""

import json

import pytest

from grantd_harness import JSON_CT, assert_error, jparse

pytestmark = pytest.mark.routes

VERSIONS = ("v1", "v2")


def _envelope(r, key="grant_request"):
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert "error" not in b, b
    assert list(b) == ["records", "total_pages", "total_entries", "current_page", "per_page"], b
    assert list(b["records"]) == [key], list(b["records"])
    return b


@pytest.mark.parametrize("v", VERSIONS)
def test_list_get(srv, v):
    n = srv.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NULL")[0]["n"]
    b = _envelope(srv.api("GET", "%s/grant_request" % v))
    assert b["total_entries"] == n
    assert len(b["records"]["grant_request"]) == min(25, n)


@pytest.mark.parametrize("v", VERSIONS)
def test_list_get_and_post_on_list_path(srv, v):
    n = srv.q("SELECT count(*) AS n FROM grant_request WHERE deleted_at IS NULL")[0]["n"]
    a = _envelope(srv.api("GET", "%s/grant_request/list" % v, params={"per_page": 3}))
    b = _envelope(srv.api("POST", "%s/grant_request/list" % v, data={"per_page": "3"}))
    assert a["total_entries"] == b["total_entries"] == n
    assert [r["id"] for r in a["records"]["grant_request"]] == \
        [r["id"] for r in b["records"]["grant_request"]]
    assert a["per_page"] == b["per_page"] == 3


@pytest.mark.parametrize("v", VERSIONS)
def test_fetch(srv, v):
    gid = srv.grant_template()["id"]
    r = srv.api("GET", "%s/grant_request/%d" % (v, gid))
    assert r.status_code == 200 and r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert list(b) == ["grant_request"], b
    assert b["grant_request"]["id"] == gid


@pytest.mark.parametrize("v", VERSIONS)
def test_create_update_put_patch_delete(srv, v):
    # create (POST) -> 200 with the record
    g = srv.create_grant(v=v, data={"project_summary": "route test %s" % v})
    gid = g["id"]
    assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                 gid)[0]["project_summary"] == "route test %s" % v
    # update (PUT and PATCH)
    for method in ("PUT", "PATCH"):
        r = srv.write(method, "grant_request", gid, {"project_summary": method + v}, v=v)
        assert r.status_code == 200, r.text[:300]
        b = jparse(r)
        assert list(b) == ["grant_request"] and b["grant_request"]["id"] == gid, b
        assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                     gid)[0]["project_summary"] == method + v
    # delete
    r = srv.api("DELETE", "%s/grant_request/%d" % (v, gid))
    assert r.status_code == 200 and r.text == "true", r.text[:300]
    assert r.headers.get("Content-Type") == JSON_CT
    assert srv.q("SELECT deleted_at FROM grant_request WHERE id=?", gid)[0]["deleted_at"]


@pytest.mark.parametrize("v", VERSIONS)
def test_camel_case_class(srv, v):
    gid = srv.grant_template()["id"]
    b = _envelope(srv.api("GET", "%s/GrantRequest" % v, params={"per_page": 2}))
    assert len(b["records"]["grant_request"]) == 2
    _envelope(srv.api("POST", "%s/GrantRequest/list" % v, data={"per_page": "2"}))
    r = srv.api("GET", "%s/GrantRequest/%d" % (v, gid))
    assert r.status_code == 200 and jparse(r)["grant_request"]["id"] == gid, r.text[:300]
    r = srv.write("PUT", "GrantRequest", gid, {"project_summary": "camel"}, v=v)
    assert r.status_code == 200 and jparse(r)["grant_request"]["id"] == gid, r.text[:300]


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("name,camel", [("foo", "Foo"), ("foo_bar", "FooBar"),
                                        ("FooBar", "FooBar"), ("grant_requests", "GrantRequests")])
def test_unknown_class_101(srv, v, name, camel):
    with srv.unchanged():
        for r in (srv.api("GET", "%s/%s" % (v, name)),
                  srv.api("GET", "%s/%s/1" % (v, name)),
                  srv.api("POST", "%s/%s/list" % (v, name)),
                  srv.write("POST", name, None, {"name": "x"}, v=v),
                  srv.write("PUT", name, 1, {"name": "x"}, v=v),
                  srv.api("DELETE", "%s/%s/1" % (v, name))):
            err = assert_error(r, 101)
            assert err["message"].endswith("uninitialized constant %s>" % camel), err


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("rid", ["abc", "0", "-1", "1.5", "1e3", "%20", "99999999999999999999999"])
def test_bad_id_102(srv, v, rid):
    with srv.unchanged():
        for r in (srv.api("GET", "%s/grant_request/%s" % (v, rid)),
                  srv.write("PUT", "grant_request", rid, {"project_summary": "x"}, v=v),
                  srv.write("PATCH", "grant_request", rid, {"project_summary": "x"}, v=v),
                  srv.api("DELETE", "%s/grant_request/%s" % (v, rid))):
            assert_error(r, 102)


@pytest.mark.parametrize("v", VERSIONS)
def test_missing_id_102(srv, v):
    mx = srv.q("SELECT max(id) AS m FROM grant_request")[0]["m"] or 0
    rid = mx + 100000
    with srv.unchanged():
        for r in (srv.api("GET", "%s/grant_request/%d" % (v, rid)),
                  srv.write("PUT", "grant_request", rid, {"project_summary": "x"}, v=v),
                  srv.write("PATCH", "grant_request", rid, {"project_summary": "x"}, v=v),
                  srv.api("DELETE", "%s/grant_request/%d" % (v, rid))):
            assert_error(r, 102)


def test_other_classes_route(srv):
    """The generic routes serve every class, not only grant_request."""
    for cls in ("organization", "user", "program", "request_transaction", "workflow_event"):
        if not srv.table_exists(cls):
            pytest.fail("table %s missing" % cls)
        n = srv.q('SELECT count(*) AS n FROM "%s" WHERE deleted_at IS NULL' % cls)[0]["n"] \
            if "deleted_at" in srv.columns(cls) else \
            srv.q('SELECT count(*) AS n FROM "%s"' % cls)[0]["n"]
        b = _envelope(srv.api("GET", "v2/%s" % cls, params={"per_page": 1}), key=cls)
        assert b["total_entries"] == n, cls
        if n:
            rid = b["records"][cls][0]["id"]
            assert srv.fetch(cls, rid)["id"] == rid
