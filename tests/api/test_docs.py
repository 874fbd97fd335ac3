"""Issue 5: the documentation pages (ref §7.2, §7.3), the JSON class and field lists, and the
machine-readable descriptions (OpenAPI 3.1, Postman v2.1). The samples on every class page
are run, in page order, against a freshly seeded site."""

import html
import json
import os
import re
import subprocess

import pytest

import grantd_harness as H
from grantd_harness import JSON_CT, assert_error, jparse
from test_web import signed_in

pytestmark = pytest.mark.routes

SAMPLE_ORDER = ["list", "list-post", "list-all", "page2", "query", "filter", "fetch", "relation",
                "create", "update", "promote", "delete", "aggregation"]
FIELD_COLUMNS = ["name", "description", "permission", "data_type", "related_class", "type",
                 "groupable"]


def samples(text):
    """[(id, command)] of a page's sample blocks, in page order."""
    return [(m.group(1), html.unescape(m.group(2)))
            for m in re.finditer(r'<code id="sample-([a-z0-9-]+)">(.*?)</code>', text, re.S)]


def classes(srv):
    r = srv.api("GET", "/api/rest/v2/classes", role="developer")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON_CT
    return jparse(r)["classes"]


# ---------------------------------------------------------------- index

@pytest.mark.parametrize("v", ["v1", "v2"])
def test_index_page(srv, v):
    b = signed_in(srv, "developer")
    r = b.get(srv.url("/api/rest/%s/doc" % v), timeout=30)
    assert r.status_code == 200
    t = r.text
    site = "http://%s:%d" % (srv.host, srv.port)
    token_line = dict(samples(t))["token"]
    assert token_line.startswith("TOKEN=$(curl -s -d grant_type=client_credentials")
    assert "'%s/oauth/token'" % site in token_line
    names = re.findall(r'<tr><td class="name">([^<]+)</td>', t)
    for p in ("cols" if v == "v2" else "style", "relation", "filter", "query", "sort", "per_page",
              "page, current_page", "deleted", "group, aggregation", "all"):
        assert p in names, p
    for code in (100, 101, 102, 103, 104, 401, 403, 429, 503):
        assert "<td>%d</td>" % code in t
    assert "/api/rest/%s/{class}/{id}" % v in t
    for k in registry_names(srv):
        assert 'href="/api/rest/%s/%s/doc"' % (v, k) in t, k
    assert 'id="class-search"' in t and "1500" in t and "rate_limit" not in t.split("<main>")[0]
    # The token line really gives a token, and the first call works with it.
    cid, secret = srv.clients["developer"]
    line = token_line.replace("CLIENT_ID", cid).replace("CLIENT_SECRET", secret)
    out = subprocess.run(["bash", "-c", line + '; printf %s "$TOKEN"'], capture_output=True,
                         text=True, timeout=60)
    assert re.fullmatch(r"[0-9a-f]{64}", out.stdout), out
    first = dict(samples(t))["first-call"]
    out = subprocess.run(["bash", "-c", first + " -sS"], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, TOKEN=out.stdout))
    assert '"records"' in out.stdout, out


def registry_names(srv):
    return [c["name"] for c in classes(srv)]


def test_index_search_without_javascript(srv):
    b = signed_in(srv, "developer")
    t = b.get(srv.url("/api/rest/v2/doc"), params={"q": "Transaction"}, timeout=30).text
    listed = re.findall(r'<li data-name="[^"]*"><a href="/api/rest/v2/([a-z_]+)/doc"', t)
    assert "request_transaction" in listed and "grant_request" not in listed, listed
    assert 'value="Transaction"' in t
    t = b.get(srv.url("/api/rest/v2/doc"), params={"q": "<b>zzz"}, timeout=30).text
    assert "<b>zzz" not in t and "&lt;b&gt;zzz" in t
    assert '<span id="class-count">0</span>' in t


# ---------------------------------------------------------------- class pages

def test_class_page_field_table(srv):
    b = signed_in(srv, "admin")
    for c in classes(srv):
        k = c["name"]
        t = b.get(srv.url("/api/rest/v2/%s/doc" % k), timeout=60).text
        heads = re.search(r'<table id="field-table"><thead><tr>(.*?)</tr>', t).group(1)
        assert re.findall(r"<th>(.*?)</th>", heads) == FIELD_COLUMNS, heads
        fields = jparse(srv.api("GET", "/api/rest/v2/%s/fields" % k))["fields"]
        rows = re.findall(r'<tr data-name="[^"]*"><td class="name">([a-z0-9_]+)', t)
        assert rows == [f["name"] for f in fields], k
        for f in fields:
            if f["related_class"]:
                assert 'href="/api/rest/v2/%s/doc"' % f["related_class"] in t
        ids = [i for i, _ in samples(t)]
        assert ids == [i for i in SAMPLE_ORDER if i in ids], (k, ids)
        for must in ("list", "list-post", "list-all", "page2", "filter", "aggregation"):
            assert must in ids, (k, must)
        has_rows = bool(srv.q('SELECT 1 FROM "%s" WHERE deleted_at IS NULL LIMIT 1' % k))
        if c["writable"]:
            assert "create" in ids or "No sample: a create needs a live" in t, (k, ids)
            assert ("delete" in ids) == has_rows, (k, ids)
        assert ("fetch" in ids) == has_rows, (k, ids)
        if c["workflow"]:
            assert "promote" in ids, k


def test_field_search_without_javascript(srv):
    b = signed_in(srv, "admin")
    t = b.get(srv.url("/api/rest/v2/grant_request/doc"), params={"q": "amount"}, timeout=30).text
    rows = re.findall(r'<tr data-name="[^"]*"><td class="name">([a-z0-9_]+)', t)
    assert rows and all("amount" in r or "amount" in t for r in rows)
    assert "amount_requested" in rows and "program_id" not in rows


def test_unknown_class(srv):
    b = signed_in(srv, "admin")
    r = b.get(srv.url("/api/rest/v2/no_such_thing/doc"), timeout=30)
    assert r.status_code == 404 and "uninitialized constant NoSuchThing" in r.text
    err = assert_error(srv.api("GET", "/api/rest/v2/no_such_thing/fields"), 101)
    assert err["message"].endswith("uninitialized constant NoSuchThing>")


def test_head_and_camel_case(srv):
    r = srv.api("HEAD", "/api/rest/v2/GrantRequest/doc", role="developer")
    assert r.status_code == 200 and r.text == ""
    r = srv.api("GET", "/api/rest/v2/GrantRequest/fields", role="developer")
    assert jparse(r)["class"] == "grant_request"


def test_fields_json(srv):
    b = jparse(srv.api("GET", "/api/rest/v2/grant_request/fields", role="developer"))
    by = {f["name"]: f for f in b["fields"]}
    assert by["id"]["permission"] == [] and by["id"]["type"] == "column"
    assert by["program_id"]["related_class"] == "program" and by["program_id"]["groupable"]
    assert by["project_summary"]["permission"] == ["create", "update"]
    assert by["amount_requested"]["data_type"] == "decimal"
    assert not by["amount_requested"]["groupable"]
    rel = [f for f in b["fields"] if f["type"] == "relation"]
    assert rel and all(f["related_class"] is None or f["data_type"][0].isupper() for f in rel)
    secret = [f for f in b["fields"] if f["name"].startswith("mfa_")]
    assert not secret
    user = {f["name"] for f in jparse(srv.api("GET", "/api/rest/v2/user/fields"))["fields"]}
    assert "first_name" in user and not any(n.startswith("mfa_") for n in user)


def test_classes_json(srv):
    cs = classes(srv)
    names = [c["name"] for c in cs]
    assert "grant_request" in names and "workflow_event" in names
    gr = [c for c in cs if c["name"] == "grant_request"][0]
    assert gr["camel_name"] == "GrantRequest" and gr["workflow"]["initial_state"] == "new"
    assert {"from": "new", "to": "pending"} in gr["workflow"]["transitions"]
    we = [c for c in cs if c["name"] == "workflow_event"][0]
    assert we["writable"] is False


@pytest.mark.slow
def test_site_defined_fields_appear_at_once(make_server):
    s = make_server("docsdyn", grants=3)
    b = signed_in(s, "admin")
    t = b.get(s.url("/api/rest/v2/grant_request/doc"), timeout=30).text
    assert "board_rating" not in t
    s.create("model_attribute", {"name": "board_rating", "model_type": "GrantRequest",
                                 "attribute_type": "integer", "description": "Board's score"})
    t = b.get(s.url("/api/rest/v2/grant_request/doc"), timeout=30).text
    m = re.search(r'<td class="name">board_rating(.*?)</tr>', t, re.S)
    assert m and "*" in m.group(1) and "Board&#39;s score" in m.group(1), t[-3000:]
    f = [f for f in jparse(s.api("GET", "/api/rest/v2/grant_request/fields"))["fields"]
         if f["name"] == "board_rating"]
    assert f and f[0]["dynamic"] is True
    o = jparse(s.api("GET", "/api/rest/v2/openapi.json"))
    assert "board_rating" in o["components"]["schemas"]["grant_request"]["properties"]


# ---------------------------------------------------------------- the samples run

def run_sample(line, token):
    out = subprocess.run(["bash", "-c", line + " -sS -w '\\n%{http_code}'"],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, TOKEN=token))
    body, _, code = out.stdout.rpartition("\n")
    return out.returncode, code, body, out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("v", ["v2", "v1"])
def test_every_sample_runs(make_server, v):
    s = make_server("samples" + v, grants=20)
    token = s.new_token("admin")
    b = signed_in(s, "admin")
    failures, ran = [], 0
    for k in registry_names(s):
        page = b.get(s.url("/api/rest/%s/%s/doc" % (v, k)), timeout=60)
        assert page.status_code == 200, k
        for sid, line in samples(page.text):
            assert line.startswith("curl ") and "$TOKEN" in line, line
            assert "'http://%s:%d/api/rest/%s/" % (s.host, s.port, v) in line, line
            rc, code, body, err = run_sample(line, token)
            ran += 1
            ok = rc == 0 and code.startswith("2")
            if ok:
                try:
                    parsed = jparse(body)
                except ValueError:
                    parsed = None
                ok = parsed is True or (isinstance(parsed, dict) and "error" not in parsed)
            if not ok:
                failures.append("%s %s: rc=%s HTTP %s %s %s\n  %s" % (
                    k, sid, rc, code, body[:300], err[:200], line))
    assert ran > 250, ran
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- OpenAPI and Postman

def openapi(srv):
    r = srv.api("GET", "/api/rest/v2/openapi.json", role="developer")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON_CT
    return jparse(r)


def test_openapi_shape(srv):
    o = openapi(srv)
    assert o["openapi"] == "3.1.0" and o["info"]["title"] and o["info"]["version"]
    site = "http://%s:%d" % (srv.host, srv.port)
    assert o["servers"] == [{"url": site}]
    flow = o["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == site + "/oauth/token"
    assert o["security"] == [{"oauth2": []}]
    for k in registry_names(srv):
        for p in ("/api/rest/v2/%s" % k, "/api/rest/v2/%s/list" % k, "/api/rest/v2/%s/{id}" % k):
            assert p in o["paths"], p
        assert k in o["components"]["schemas"]
    gr = o["paths"]["/api/rest/v2/grant_request/{id}"]
    assert set(gr) >= {"get", "put", "patch", "delete", "parameters"}
    assert "post" not in o["paths"]["/api/rest/v2/workflow_event"]
    ids = [op["operationId"] for p in o["paths"].values() for m, op in p.items()
           if m != "parameters"]
    assert len(ids) == len(set(ids))
    props = o["components"]["schemas"]["grant_request"]["properties"]
    assert props["id"]["readOnly"] is True and props["amount_requested"]["type"] == ["number",
                                                                                     "string"]


def test_every_openapi_path_answers(srv):
    o = openapi(srv)
    live = {}

    def live_id(k):
        if k not in live:
            live[k] = srv.q('SELECT id FROM "%s" WHERE deleted_at IS NULL ORDER BY id LIMIT 1'
                            % k)
        return live[k][0]["id"] if live[k] else None

    checked = 0
    cid, secret = srv.clients["developer"]
    for path, item in o["paths"].items():
        if path.startswith("/oauth/"):
            r = srv.session.post(srv.url(path), data={
                "grant_type": "client_credentials", "client_id": cid, "client_secret": secret,
                "token": srv.new_token("developer")}, timeout=30)
            assert r.status_code == 200, (path, r.text[:300])
            checked += 1
            continue
        assert "get" in item, path
        url = path
        if "{class}" in url:
            url = url.replace("{class}", "grant_request")
        if "{id}" in url:
            k = path.split("/")[4]
            rid = live_id(k)
            if rid is None:
                continue
            url = url.replace("{id}", str(rid))
        r = srv.api("GET", url, role="developer")
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        if "json" in r.headers["Content-Type"]:
            b = jparse(r)
            assert not (isinstance(b, dict) and "error" in b), (path, b)
        checked += 1
    assert checked >= 2 * len(registry_names(srv)) + 6, checked


def test_postman_collection_v21(srv):
    r = srv.api("GET", "/api/rest/v2/postman.json", role="developer")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON_CT
    c = jparse(r)
    assert c["info"]["schema"] == \
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    assert isinstance(c["info"]["name"], str) and c["info"]["name"]
    auth = c["auth"]
    assert auth["type"] == "oauth2"
    kv = {a["key"]: a["value"] for a in auth["oauth2"]}
    assert all(set(a) == {"key", "value", "type"} for a in auth["oauth2"])
    assert kv["grant_type"] == "client_credentials"
    assert kv["accessTokenUrl"] == "{{baseUrl}}/oauth/token"
    assert kv["clientId"] == "{{client_id}}" and kv["clientSecret"] == "{{client_secret}}"
    variables = {v["key"]: v["value"] for v in c["variable"]}
    assert variables["baseUrl"] == "http://%s:%d" % (srv.host, srv.port)
    names = registry_names(srv)
    folders = {f["name"]: f for f in c["item"]}
    assert set(names) <= set(folders) and "OAuth" in folders
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    requests_ = 0

    def check_item(it):
        nonlocal requests_
        assert isinstance(it["name"], str)
        req = it["request"]
        assert req["method"] in methods
        url = req["url"]
        assert url["raw"].startswith("{{baseUrl}}/") and url["host"] == ["{{baseUrl}}"]
        assert all(isinstance(p, str) for p in url["path"])
        assert "/".join(url["path"]) == url["raw"][len("{{baseUrl}}/"):].split("?")[0]
        for q in url.get("query", []):
            assert set(q) >= {"key", "value"}
        for v in url.get("variable", []):
            assert ":" + v["key"] in url["raw"]
        if "body" in req:
            assert req["body"]["mode"] in ("raw", "urlencoded", "formdata", "file", "graphql")
            for kv_ in req["body"].get(req["body"]["mode"], []):
                assert set(kv_) >= {"key", "value"}
        if "auth" in req:
            assert req["auth"]["type"] in ("noauth", "oauth2", "bearer")
        requests_ += 1

    for f in c["item"]:
        assert isinstance(f["item"], list) and f["item"]
        for it in f["item"]:
            check_item(it)
    assert requests_ >= 4 * len(names)
    # Every request of a class answers with a real token (reads only: writes are samples).
    tok = srv.token("developer")
    for f in c["item"]:
        if f["name"] == "OAuth":
            continue
        for it in f["item"]:
            req = it["request"]
            if req["method"] != "GET":
                continue
            url = req["url"]["raw"].replace("{{baseUrl}}", "http://%s:%d" % (srv.host, srv.port))
            for v in req["url"].get("variable", []):
                url = url.replace(":" + v["key"], v["value"])
            r = srv.session.get(url, headers={"Authorization": "Bearer " + tok}, timeout=60)
            assert r.status_code == 200, (url, r.text[:200])
