"""Contract §1: transport (content type, request ids, HEAD, 404/405, method override, bounds,
health check)."""

import json
import re
import time
import socket
import ssl
import subprocess
import uuid

import pytest
import requests

import grantd_harness as H
from grantd_harness import JSON_CT, assert_error, jparse

pytestmark = pytest.mark.transport


def _raw_request(host, port, head, body=b"", timeout=30):
    """Send raw bytes, tolerate the server closing early, return the raw answer bytes."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(head)
        try:
            view = memoryview(body)
            while view:
                n = s.send(view[:65536])
                view = view[n:]
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
                data = b"".join(chunks)
                if b"\r\n\r\n" in data:
                    hdr, _, rest = data.partition(b"\r\n\r\n")
                    for line in hdr.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            if len(rest) >= int(line.split(b":")[1]):
                                return data
        except (ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)
    finally:
        s.close()


# ---------------------------------------------------------------- content type, request id

def test_json_content_type_on_every_json_answer(srv, grant):
    gid = grant["id"]
    answers = {
        "list": srv.api("GET", "v2/grant_request"),
        "list_post": srv.api("POST", "v2/grant_request/list", data={"per_page": "2"}),
        "fetch": srv.api("GET", "v2/grant_request/%d" % gid),
        "update": srv.write("PUT", "grant_request", gid, {"project_summary": "ct"}),
        "v1_fetch": srv.api("GET", "v1/grant_request/%d" % gid),
        "error_101": srv.api("GET", "v2/no_such_class"),
        "error_401": srv.api("GET", "v2/grant_request", role=None),
        "token": srv.request_token("admin"),
        "error_102": srv.api("GET", "v2/grant_request/987654321"),
        "error_403": srv.write("PUT", "grant_request", gid, {"project_summary": "x"},
                               role="developer"),
        "error_404": requests.get(srv.url("/no/such/route"), timeout=30),
        "error_405": requests.delete(srv.url("/healthz"), timeout=30),
        "error_415": srv.api("POST", "v2/grant_request", data="x",
                             headers={"Content-Type": "text/plain"}),
        "oauth_error": requests.post(srv.url("/oauth/token"), data={"grant_type": "x"},
                                     timeout=30),
        "introspect": requests.post(srv.url("/oauth/introspect"), timeout=30,
                                    data={"client_id": srv.clients["admin"][0],
                                          "client_secret": srv.clients["admin"][1],
                                          "token": "0" * 64}),
    }
    answers["delete"] = srv.api("DELETE", "v2/grant_request/%d" % gid)
    for name, r in answers.items():
        assert r.headers.get("Content-Type") == JSON_CT, (name, r.headers.get("Content-Type"))
    assert answers["delete"].status_code == 200
    assert answers["delete"].text == "true"


def test_request_id_echoed(srv):
    rid = "test-" + uuid.uuid4().hex
    for r in (srv.api("GET", "v2/grant_request", headers={"X-Request-Id": rid},
                      params={"per_page": 1}),
              srv.api("GET", "v2/grant_request", role=None, headers={"X-Request-Id": rid}),
              requests.get(srv.url("/no/such/path"), headers={"X-Request-Id": rid}, timeout=30)):
        assert r.headers.get("X-Request-Id") == rid, (r.status_code, r.headers)


def test_request_id_generated(srv):
    seen = set()
    for r in (srv.api("GET", "v2/grant_request", params={"per_page": 1}),
              srv.api("GET", "v2/grant_request", params={"per_page": 1}),
              srv.api("GET", "v2/grant_request", role=None),
              requests.get(srv.url("/no/such/path"), timeout=30),
              requests.get(srv.url("/healthz"), timeout=30)):
        rid = r.headers.get("X-Request-Id")
        assert rid, (r.status_code, r.url, r.headers)
        seen.add(rid)
    assert len(seen) == 5, "request ids must be fresh per request: %s" % seen


# ---------------------------------------------------------------- HEAD, 404, 405

def test_head_works_where_get_does(srv):
    gid = srv.grant_template()["id"]
    for path, auth in (("v2/grant_request", True), ("v2/grant_request/%d" % gid, True),
                       ("v1/grant_request/%d" % gid, True), ("v2/grant_request/list", True),
                       ("/healthz", False)):
        g = srv.api("GET", path, role="admin" if auth else None)
        h = srv.api("HEAD", path, role="admin" if auth else None)
        assert g.status_code == 200, (path, g.status_code, g.text[:300])
        assert h.status_code == g.status_code, (path, h.status_code)
        assert h.content == b"", (path, h.content[:200])
        assert h.headers.get("Content-Type") == g.headers.get("Content-Type"), path


def test_unknown_path_404(srv):
    for path in ("/nope", "/api", "/api/rest/v3/grant_request", "/api/rest/v2",
                 "/api/rest/v2/grant_request/1/extra", "/oauth/nothing"):
        for r in (requests.get(srv.url(path), timeout=30),
                  srv.api("GET", path)):
            assert r.status_code == 404, (path, r.status_code, r.text[:200])


def _allow(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def test_wrong_method_405_with_allow(srv):
    gid = srv.grant_template()["id"]
    cases = [
        ("DELETE", "v2/grant_request", {"GET", "POST"}),
        ("PUT", "v2/grant_request", {"GET", "POST"}),
        ("PUT", "v2/grant_request/list", {"GET", "POST"}),
        ("DELETE", "v2/grant_request/list", {"GET", "POST"}),
        ("POST", "v2/grant_request/%d" % gid, {"GET", "PUT", "PATCH", "DELETE"}),
        ("POST", "/healthz", {"GET"}),
        ("GET", "/oauth/token", {"POST"}),
        ("PUT", "/oauth/token", {"POST"}),
    ]
    for method, path, must in cases:
        with srv.unchanged():
            r = srv.api(method, path)
        assert r.status_code == 405, (method, path, r.status_code, r.text[:300])
        allow = _allow(r)
        assert must <= allow, (method, path, r.headers.get("Allow"))
        assert method not in allow, (method, path, r.headers.get("Allow"))


# ---------------------------------------------------------------- method override

def test_method_override_header_get(srv):
    gid = srv.grant_template()["id"]
    r = srv.api("POST", "v2/grant_request/%d" % gid, headers={"X-HTTP-Method-Override": "GET"},
                data={"cols": '["state"]'})
    assert r.status_code == 200, r.text[:300]
    assert jparse(r)["grant_request"]["id"] == gid
    # A list through POST + override GET (the Java toolkit's style).
    r = srv.api("POST", "v2/grant_request/list", headers={"X-HTTP-Method-Override": "GET"},
                data={"per_page": "3"})
    assert r.status_code == 200 and jparse(r)["per_page"] == 3, r.text[:300]


def test_method_override_header_put_patch_delete(srv, grant):
    gid = grant["id"]
    for verb, text in (("PUT", "via override put"), ("PATCH", "via override patch")):
        r = srv.api("POST", "v2/grant_request/%d" % gid,
                    headers={"X-HTTP-Method-Override": verb},
                    data={"data": json.dumps({"project_summary": text})})
        assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
        assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                     gid)[0]["project_summary"] == text
    r = srv.api("POST", "v2/grant_request/%d" % gid, headers={"X-HTTP-Method-Override": "DELETE"})
    assert r.status_code == 200 and r.text == "true", r.text[:300]
    assert srv.q("SELECT deleted_at FROM grant_request WHERE id=?", gid)[0]["deleted_at"]


def test_method_override_post_changes_nothing(srv):
    t = srv.grant_template()
    n = srv.q("SELECT count(*) AS n FROM grant_request")[0]["n"]
    r = srv.api("POST", "v2/grant_request", headers={"X-HTTP-Method-Override": "POST"},
                data={"data": json.dumps({"program_organization_id": t["program_organization_id"],
                                          "program_id": t["program_id"],
                                          "project_summary": "override post"})})
    assert r.status_code == 200, r.text[:300]
    b = jparse(r)
    if "error" in b:  # the registry may require more fields; the create path was still taken
        assert b["error"]["code"] == 100, b
    else:
        assert b["grant_request"]["id"] > 0
        assert srv.q("SELECT count(*) AS n FROM grant_request")[0]["n"] == n + 1


def test_method_field_in_post_body(srv, grant):
    gid = grant["id"]
    r = srv.api("POST", "v2/grant_request/%d" % gid,
                data={"_method": "PUT", "data": json.dumps({"project_summary": "via _method"})})
    assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
    assert srv.q("SELECT project_summary FROM grant_request WHERE id=?",
                 gid)[0]["project_summary"] == "via _method"
    r = srv.api("POST", "v2/grant_request/%d" % gid, data={"_method": "GET"})
    assert r.status_code == 200 and jparse(r)["grant_request"]["id"] == gid, r.text[:300]
    r = srv.api("POST", "v2/grant_request/%d" % gid, data={"_method": "DELETE"})
    assert r.status_code == 200 and r.text == "true", r.text[:300]


# ---------------------------------------------------------------- bounds

def test_url_over_64k_is_414_with_envelope(srv):
    cols = json.dumps(["field_%05d_padding_padding_padding" % i for i in range(2200)])
    url = srv.url("v2/grant_request") + "?cols=" + requests.utils.quote(cols)
    assert len(url) > 65536 + 100
    with srv.unchanged():
        r = srv.session.get(url, headers={"Authorization": "Bearer " + srv.token()}, timeout=60)
    assert r.status_code == 414, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == JSON_CT
    assert jparse(r)["error"]["code"] == 414


def test_long_url_with_320_cols_works(srv):
    real = ["state", "amount_requested", "program_id"]
    fake = ["instance_specific_dynamic_attribute_number_%03d_" % i + "x" * 70 for i in range(317)]
    cols = real + fake
    url = srv.url("v2/grant_request") + "?per_page=5&cols=" + requests.utils.quote(
        json.dumps(cols))
    assert 35000 < len(url) < 65000, len(url)
    r = srv.session.get(url, headers={"Authorization": "Bearer " + srv.token()}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    b = jparse(r)
    recs = b["records"]["grant_request"]
    assert len(recs) == 5
    for rec in recs:
        assert set(rec) <= {"id"} | set(real), rec
        assert not any(k.startswith("instance_specific") for k in rec)
    raw = r.headers.get("X-Ignored-Fields")
    assert raw, "ignored cols must be listed in X-Ignored-Fields"
    b8 = raw.encode("latin-1")
    assert len(b8) <= 4096 + 3, len(b8)
    assert b8.endswith("…".encode("utf-8")), b8[-20:]
    assert b8.startswith(b"instance_specific_dynamic_attribute_number_000_")


def test_body_over_limit_413(make_server):
    s = make_server("maxbody", grants=5, serve_args=["--max-body", "1048576"])
    tok = s.token()
    # Under the limit: fine (an unknown padding parameter is ignored).
    small = b"per_page=1&pad=" + b"x" * 900000
    r = requests.post(s.url("v2/grant_request/list"), data=small, timeout=60,
                      headers={"Authorization": "Bearer " + tok,
                               "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    body = b"per_page=1&pad=" + b"x" * (2 * 1024 * 1024)
    head = ("POST /api/rest/v2/grant_request/list HTTP/1.1\r\nHost: %s:%d\r\n"
            "Authorization: Bearer %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n"
            % (s.host, s.port, tok, len(body))).encode()
    with s.unchanged():
        raw = _raw_request(s.host, s.port, head, body)
    assert raw.startswith(b"HTTP/1.1 413"), raw[:300]
    # The server is still fine afterwards.
    assert requests.get(s.url("/healthz"), timeout=10).status_code == 200


def test_text_plain_body_415(srv):
    t = srv.grant_template()
    with srv.unchanged():
        r = srv.api("POST", "v2/grant_request", data="data=" + json.dumps(
            {"program_organization_id": t["program_organization_id"]}),
            headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == JSON_CT
    assert jparse(r)["error"]["code"] == 415


def test_healthz(srv):
    r = requests.get(srv.url("/healthz"), timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_access_log_has_no_query_body_token_or_secret(srv):
    marker_q = "qmarker" + uuid.uuid4().hex
    marker_b = "bmarker" + uuid.uuid4().hex
    mark = srv.log_len()
    tok = srv.new_token("admin2")
    srv.api("GET", "v2/grant_request", token=tok, params={"per_page": 1, "x": marker_q})
    srv.api("POST", "v2/grant_request/list", token=tok, data={"per_page": 1, "x": marker_b})
    srv.api("GET", "v2/grant_request", token="f" * 64)
    import time
    time.sleep(0.5)
    log = srv.log_text(mark)
    cid, secret = srv.clients["admin2"]
    assert "/api/rest/v2/grant_request" in log, "the access log must name method and path"
    for secret_text in (marker_q, marker_b, tok, secret, "f" * 64):
        assert secret_text not in log, "access log leaks %r" % secret_text[:12]


def test_method_override_only_on_post(srv, grant):
    """An override header on GET (or a _method parameter in a GET query) never writes."""
    gid = grant["id"]
    with srv.unchanged():
        r = srv.api("GET", "v2/grant_request/%d" % gid,
                    headers={"X-HTTP-Method-Override": "DELETE"})
        assert r.status_code == 200 and jparse(r)["grant_request"]["id"] == gid, r.text[:300]
        r = srv.api("GET", "v2/grant_request/%d" % gid, params={"_method": "DELETE"})
        assert r.status_code == 200 and jparse(r)["grant_request"]["id"] == gid, r.text[:300]


def test_keep_alive_and_pipelining(srv):
    tok = srv.token()
    one = ("GET /api/rest/v2/grant_request?per_page=1 HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer %s\r\n\r\n" % tok).encode()
    last = ("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    s = socket.create_connection((srv.host, srv.port), timeout=30)
    try:
        s.sendall(one + one + last)
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    finally:
        s.close()
    assert data.count(b"HTTP/1.1 200") == 3, data[:2000]


def test_slow_clients_do_not_block_others(srv):
    """Half-sent requests (more of them than worker threads) never block other clients."""
    import time
    socks = []
    try:
        for i in range(6):
            s = socket.create_connection((srv.host, srv.port), timeout=30)
            if i % 2:
                s.sendall(b"GET /api/rest/v2/grant_request HTTP/1.1\r\nHost: x\r\nAuthor")
            else:
                s.sendall(b"POST /api/rest/v2/grant_request/list HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 1000\r\nContent-Type: application/x-www-form-"
                          b"urlencoded\r\n\r\nper_page=1&pad=")
            socks.append(s)
        t0 = time.time()
        for _ in range(5):
            r = requests.get(srv.url("v2/grant_request"), params={"per_page": 1}, timeout=10,
                             headers={"Authorization": "Bearer " + srv.token()})
            assert r.status_code == 200
        assert time.time() - t0 < 5
    finally:
        for s in socks:
            s.close()


def test_malformed_json_body_103(srv):
    with srv.unchanged():
        for path, method in (("v2/grant_request", "POST"), ("v2/grant_request/list", "POST")):
            r = srv.api(method, path, data='{"data": {"project_summary": "x"',
                        headers={"Content-Type": "application/json"})
            assert_error(r, 103)


def test_max_url_is_configurable(make_server):
    s = make_server("maxurl", grants=3, serve_args=["--max-url", "300000"])
    cols = json.dumps(["col_%06d_padding_padding_padding_padding" % i for i in range(4500)])
    url = s.url("v2/grant_request") + "?per_page=1&cols=" + requests.utils.quote(cols)
    assert 150000 < len(url) < 290000, len(url)
    r = requests.get(url, headers={"Authorization": "Bearer " + s.token()}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    r = requests.get(url + "x" * (301000 - len(url)), headers={"Authorization": "Bearer " + s.token()},
                     timeout=60)
    assert r.status_code == 414 and jparse(r)["error"]["code"] == 414, r.status_code


def _read_answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        if not c:
            break
        data += c
    hdr, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in hdr.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        c = s.recv(65536)
        if not c:
            break
        rest += c
    return hdr


def _worker_of(log, rid):
    lines = [l for l in log.splitlines() if (" id=%s " % rid) in l]
    assert len(lines) == 1, (rid, lines)
    return re.search(r" worker=(\d+)$", lines[0]).group(1)


def _open_and_ask(s, rid):
    c = socket.create_connection((s.host, s.port), timeout=30)
    c.sendall(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n" % rid).encode())
    assert _read_answer(c).startswith(b"HTTP/1.1 200"), rid
    return c


def test_connections_spread_evenly_over_worker_threads(make_server):
    """Each worker thread has its own SO_REUSEPORT listener, where the kernel picks by a
    hash of the client's port: without more, 16 connections often split 10/6 and the busier
    thread answers later. A thread that accepts while another has fewer connections hands
    the new one over, so 16 connections opened one after another split 8/8, and once one
    thread's connections close, new ones go to it. The access log names the thread
    (worker=N) that served each request."""
    s = make_server("spread", grants=1)
    time.sleep(0.3)  # the harness's /healthz connection is closed and counted out
    tag = uuid.uuid4().hex[:8]
    conns = {}
    try:
        for i in range(16):
            rid = "spread-%s-%d" % (tag, i)
            conns[rid] = _open_and_ask(s, rid)
        # every connection still works where it was placed: a second request on each
        for rid, c in conns.items():
            c.sendall(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s-again\r\n\r\n"
                       % rid).encode())
            assert _read_answer(c).startswith(b"HTTP/1.1 200"), rid
        time.sleep(0.2)
        log = s.log_text()
        where = {rid: _worker_of(log, rid) for rid in conns}
        for rid in conns:
            assert _worker_of(log, rid + "-again") == where[rid]  # a connection stays put
        per = {}
        for w in where.values():
            per[w] = per.get(w, 0) + 1
        assert sorted(per.values()) == [8, 8], per
        # close one thread's eight: the next eight connections all go to that thread
        emptied = sorted(per)[0]
        for rid in [r for r in conns if where[r] == emptied]:
            conns.pop(rid).close()
        time.sleep(0.3)
        later = []
        for i in range(8):
            rid = "spread-%s-later-%d" % (tag, i)
            conns[rid] = _open_and_ask(s, rid)
            later.append(rid)
        time.sleep(0.2)
        log = s.log_text()
        assert [_worker_of(log, rid) for rid in later] == [emptied] * 8
    finally:
        for c in conns.values():
            c.close()


def test_tls_serves_and_spreads_connections(make_server, tmp_path):
    """--tls-cert/--tls-key: HTTPS answers on kept-alive connections, which are spread over
    the worker threads like plain ones (a connection handed to another thread before its
    handshake completes it there)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    s = make_server("tls", grants=1, start=False)
    s.scheme = "https"
    s.start(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    time.sleep(0.3)
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    tag = uuid.uuid4().hex[:8]
    conns = []
    try:
        for i in range(8):
            raw = socket.create_connection((s.host, s.port), timeout=30)
            c = ctx.wrap_socket(raw, server_hostname="localhost")
            conns.append(c)
            for again in ("", "-again"):
                c.sendall(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: tls-%s-%d%s\r\n\r\n"
                           % (tag, i, again)).encode())
                assert _read_answer(c).startswith(b"HTTP/1.1 200"), (i, again)
        time.sleep(0.2)
        log = s.log_text()
        where = [_worker_of(log, "tls-%s-%d" % (tag, i)) for i in range(8)]
        assert [_worker_of(log, "tls-%s-%d-again" % (tag, i)) for i in range(8)] == where
        assert sorted(where.count(w) for w in set(where)) == [4, 4], where
    finally:
        for c in conns:
            c.close()
    # plain HTTP on the TLS port is refused, not answered
    with pytest.raises(requests.RequestException):
        requests.get("http://%s:%d/healthz" % (s.host, s.port), timeout=5)
