"""Contract §2: OAuth 2 client credentials (token, revoke, introspect) and bearer checks."""

import re
import secrets
import time

import pytest
import requests

import grantd_harness as H
from grantd_harness import JSON_CT, jparse

pytestmark = pytest.mark.oauth

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _check_token_answer(r):
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == JSON_CT
    assert r.headers.get("Cache-Control") == "no-store", r.headers.get("Cache-Control")
    assert r.headers.get("Pragma") == "no-cache", r.headers.get("Pragma")
    b = jparse(r)
    assert list(b) == ["access_token", "token_type", "expires_in", "created_at"], b
    assert HEX64.match(b["access_token"]), b["access_token"]
    assert b["token_type"] == "bearer"
    assert b["expires_in"] == 7200
    assert isinstance(b["created_at"], int) and abs(b["created_at"] - time.time()) < 120
    return b["access_token"]


def _works(srv, tok):
    r = srv.api("GET", "v2/grant_request", token=tok, params={"per_page": 1})
    return r.status_code == 200 and "records" in jparse(r)


def _token_url(srv):
    return srv.url("/oauth/token")


def test_token_urlencoded(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": sec}, timeout=30)
    assert _works(srv, _check_token_answer(r))


def test_token_multipart(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), files={"grant_type": (None, "client_credentials"),
                                              "client_id": (None, cid),
                                              "client_secret": (None, sec)}, timeout=30)
    assert r.request.headers["Content-Type"].startswith("multipart/form-data")
    assert _works(srv, _check_token_answer(r))


def test_token_query_string(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), params={"grant_type": "client_credentials",
                                               "client_id": cid, "client_secret": sec},
                      timeout=30)
    assert _works(srv, _check_token_answer(r))


def test_token_json_body(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), json={"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": sec}, timeout=30)
    assert _works(srv, _check_token_answer(r))


def test_token_http_basic(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials"},
                      auth=(cid, sec), timeout=30)
    assert _works(srv, _check_token_answer(r))


def test_tokens_are_distinct(srv):
    a, b = srv.new_token("employee"), srv.new_token("employee")
    assert a != b
    assert _works(srv, a) and _works(srv, b)


def _check_oauth_error(r, status, error):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert b.get("error") == error, b
    assert isinstance(b.get("error_description"), str) and b["error_description"], b
    return b


def test_invalid_client(srv):
    cid, sec = srv.clients["admin"]
    other_cid, other_sec = srv.clients["employee"]
    cases = [
        {"client_id": cid, "client_secret": "0" * 64},           # wrong secret
        {"client_id": "0" * 64, "client_secret": sec},           # unknown client
        {"client_id": cid, "client_secret": other_sec},          # someone else's secret
        {"client_id": cid, "client_secret": sec[:-1]},           # prefix of the secret
    ]
    for c in cases:
        c["grant_type"] = "client_credentials"
        r = requests.post(_token_url(srv), data=c, timeout=30)
        _check_oauth_error(r, 401, "invalid_client")
        www = r.headers.get("WWW-Authenticate", "")
        assert www.startswith("Bearer"), www
        assert 'realm="grantd"' in www and 'error="invalid_client"' in www, www
        assert sec not in r.text and other_sec not in r.text
    # Wrong secret through HTTP Basic as well.
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials"},
                      auth=(cid, "1" * 64), timeout=30)
    _check_oauth_error(r, 401, "invalid_client")


def test_invalid_request_missing_grant_type(srv):
    cid, sec = srv.clients["admin"]
    r = requests.post(_token_url(srv), data={"client_id": cid, "client_secret": sec}, timeout=30)
    _check_oauth_error(r, 400, "invalid_request")


def test_missing_client_secret_is_an_error(srv):
    cid, _ = srv.clients["admin"]
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials",
                                             "client_id": cid}, timeout=30)
    # A missing parameter is invalid_request (400); an implementation may also treat it as a
    # failed client authentication (401 invalid_client). Never a token.
    assert (r.status_code, jparse(r).get("error")) in ((400, "invalid_request"),
                                                      (401, "invalid_client")), r.text


def test_unsupported_grant_type(srv):
    cid, sec = srv.clients["admin"]
    for gt in ("password", "authorization_code", "nonsense"):
        r = requests.post(_token_url(srv), data={"grant_type": gt, "client_id": cid,
                                                 "client_secret": sec}, timeout=30)
        _check_oauth_error(r, 400, "unsupported_grant_type")


def _client_auth(srv, client):
    cid, sec = srv.clients[client]
    return {"client_id": cid, "client_secret": sec}


def test_revoke_own_token(srv):
    tok = srv.new_token("admin")
    assert _works(srv, tok)
    r = requests.post(srv.url("/oauth/revoke"), data=dict(_client_auth(srv, "admin"), token=tok),
                      timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type") == JSON_CT
    assert jparse(r) == {}
    r = srv.api("GET", "v2/grant_request", token=tok)
    _check_401(r)


def test_revoke_other_clients_token_has_no_effect(srv):
    tok = srv.new_token("admin")
    r = requests.post(srv.url("/oauth/revoke"),
                      data=dict(_client_auth(srv, "admin2"), token=tok), timeout=30)
    assert r.status_code == 200 and jparse(r) == {}, r.text
    assert _works(srv, tok), "a client revoked another client's token"


def test_revoke_unknown_token_is_200(srv):
    r = requests.post(srv.url("/oauth/revoke"),
                      data=dict(_client_auth(srv, "admin"), token=secrets.token_hex(32)),
                      timeout=30)
    assert r.status_code == 200 and jparse(r) == {}, r.text


def test_revoke_requires_client_authentication(srv):
    tok = srv.new_token("admin")
    r = requests.post(srv.url("/oauth/revoke"), data={"token": tok}, timeout=30)
    assert r.status_code == 401, r.text
    r = requests.post(srv.url("/oauth/revoke"),
                      data={"token": tok, "client_id": srv.clients["admin"][0],
                            "client_secret": "0" * 64}, timeout=30)
    assert r.status_code == 401, r.text
    assert jparse(r).get("error") == "invalid_client"
    assert _works(srv, tok)


def test_introspect(srv):
    tok = srv.new_token("admin")
    r = requests.post(srv.url("/oauth/introspect"),
                      data=dict(_client_auth(srv, "admin"), token=tok), timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert b.get("active") is True, b
    assert b.get("client_id") == srv.clients["admin"][0], b
    assert b.get("token_type") == "bearer", b
    assert isinstance(b.get("exp"), int) and isinstance(b.get("iat"), int), b
    assert b["exp"] - b["iat"] == 7200, b
    assert abs(b["iat"] - time.time()) < 120, b
    # Another client's token, an unknown token, a revoked token: inactive.
    for client, t in (("admin2", tok), ("admin", secrets.token_hex(32))):
        r = requests.post(srv.url("/oauth/introspect"),
                          data=dict(_client_auth(srv, client), token=t), timeout=30)
        assert r.status_code == 200 and jparse(r) == {"active": False}, (client, r.text)
    requests.post(srv.url("/oauth/revoke"), data=dict(_client_auth(srv, "admin"), token=tok),
                  timeout=30)
    r = requests.post(srv.url("/oauth/introspect"),
                      data=dict(_client_auth(srv, "admin"), token=tok), timeout=30)
    assert r.status_code == 200 and jparse(r) == {"active": False}, r.text


def test_introspect_requires_client_authentication(srv):
    tok = srv.new_token("admin")
    r = requests.post(srv.url("/oauth/introspect"), data={"token": tok}, timeout=30)
    assert r.status_code == 401, r.text
    assert "active" not in r.text or jparse(r).get("active") is not True


def _check_401(r):
    assert r.status_code == 401, (r.status_code, r.text[:300])
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer "), www
    assert 'realm="grantd"' in www, www
    assert 'error="invalid_token"' in www, www
    assert "error_description=" in www, www
    assert r.headers.get("Content-Type") == JSON_CT
    b = jparse(r)
    assert b["error"]["code"] == 401, b
    assert b["error"]["message"]


def test_api_without_token_401(srv):
    for method, path in (("GET", "v2/grant_request"), ("GET", "v1/grant_request"),
                         ("POST", "v2/grant_request/list"), ("POST", "v2/grant_request"),
                         ("DELETE", "v2/grant_request/1"), ("GET", "v2/no_such_class")):
        with srv.unchanged():
            r = srv.api(method, path, role=None)
        _check_401(r)


def test_api_bad_tokens_401(srv):
    good = srv.token("admin")
    for tok in ("f" * 64, good[:-1] + ("0" if good[-1] != "0" else "1"), good.upper(), "x",
                good + "00"):
        _check_401(srv.api("GET", "v2/grant_request", token=tok))
    # Not "Bearer": Basic, or the token in the URL (tokens never travel in URLs).
    cid, sec = srv.clients["admin"]
    _check_401(srv.session.get(srv.url("v2/grant_request"), auth=(cid, sec), timeout=30))
    _check_401(srv.session.get(srv.url("v2/grant_request"), params={"access_token": good},
                               timeout=30))


def test_revoked_token_401(srv):
    tok = srv.new_token("employee")
    assert _works(srv, tok)
    requests.post(srv.url("/oauth/revoke"), data=dict(_client_auth(srv, "employee"), token=tok),
                  timeout=30)
    _check_401(srv.api("GET", "v2/grant_request", token=tok))


def test_cli_revoke_reaches_every_worker_at_once(srv):
    """The token is cached by every worker first (eight keep-alive connections spread over
    the server's threads), then its client is revoked by another process (the CLI), which
    the server learns of only through the database's change stamp: no request after the
    revocation may pass. With GRANTD_LAZY_READS=1 on PostgreSQL a read's BEGIN travels with
    its first statement and the token is checked against the stamp seen last; the answer
    must then be built again when the snapshot's differs (without that, this test fails)."""
    cid, _ = srv.add_client("to_revoke_all", srv.logins["admin"])
    tok = srv.new_token("to_revoke_all")
    sessions = [requests.Session() for _ in range(8)]
    try:
        for s in sessions:
            for _ in range(2):
                r = s.get(srv.url("v2/grant_request"),
                          headers={"Authorization": "Bearer " + tok}, timeout=30)
                assert r.status_code == 200, r.text
        H.run_cli(["client", "revoke", cid, "--db", srv.db_path])
        for s in sessions:
            _check_401(s.get(srv.url("v2/grant_request"),
                             headers={"Authorization": "Bearer " + tok}, timeout=30))
    finally:
        for s in sessions:
            s.close()


@pytest.mark.slow
def test_expired_token_401(make_server):
    s = make_server("expiry", grants=3, config={"token_lifetime": "1"})
    r = s.request_token("admin")
    assert r.status_code == 200 and jparse(r)["expires_in"] == 1, r.text
    tok = jparse(r)["access_token"]
    time.sleep(2.5)
    _check_401(s.api("GET", "v2/grant_request", token=tok))
    r = requests.post(s.url("/oauth/introspect"), data=dict(_client_auth(s, "admin"), token=tok),
                      timeout=30)
    assert r.status_code == 200 and jparse(r) == {"active": False}, r.text


def test_cli_client_revoke_kills_tokens(srv):
    cid, sec = srv.add_client("to_revoke", srv.logins["admin"])
    tok = srv.new_token("to_revoke")
    assert _works(srv, tok)
    out = H.run_cli(["client", "list", "--db", srv.db_path]).stdout
    assert cid in out, out
    assert sec not in out, "client list must not show secrets"
    H.run_cli(["client", "revoke", cid, "--db", srv.db_path])
    _check_401(srv.api("GET", "v2/grant_request", token=tok))
    r = srv.request_token("to_revoke")
    assert r.status_code == 401 and jparse(r)["error"] == "invalid_client", r.text


def test_cli_rotate_secret(srv):
    cid, old = srv.add_client("to_rotate", srv.logins["admin"])
    out = H.parse_kv(H.run_cli(["client", "rotate-secret", cid, "--db", srv.db_path]).stdout)
    new = out.get("client_secret")
    assert new and new != old, out
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": old}, timeout=30)
    assert r.status_code == 401, r.text
    r = requests.post(_token_url(srv), data={"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": new}, timeout=30)
    _check_token_answer(r)


def test_secrets_are_stored_hashed(srv):
    cid, sec = srv.clients["admin"]
    tok = srv.token("admin")
    plain = (sec, tok, sec.encode().hex(), tok.encode().hex())  # blobs come as hex text
    for t in srv.probe("--tables", "--all"):
        for row in srv.q('SELECT * FROM "%s"' % t):
            for v in row.values():
                if isinstance(v, str):
                    assert not any(p in v for p in plain), "plain secret/token in table %s" % t


def test_read_only_client_cannot_write(srv, grant):
    gid = grant["id"]
    t = srv.grant_template()
    with srv.unchanged():
        for r in (srv.write("POST", "grant_request", None,
                            {"program_organization_id": t["program_organization_id"],
                             "program_id": t["program_id"]}, role="admin_ro"),
                  srv.write("PUT", "grant_request", gid, {"project_summary": "ro"},
                            role="admin_ro"),
                  srv.write("PATCH", "grant_request", gid, {"project_summary": "ro"},
                            role="admin_ro"),
                  srv.api("DELETE", "v2/grant_request/%d" % gid, role="admin_ro")):
            assert r.status_code == 403, (r.status_code, r.text[:300])
            assert jparse(r)["error"]["code"] == 403
    # Reads are fine.
    assert srv.fetch("grant_request", gid, role="admin_ro")["id"] == gid
    srv.list("grant_request", role="admin_ro", per_page=1)
    srv.list("grant_request", role="admin_ro", method="POST", per_page=1)


def test_inactive_owner_is_invalid_client(srv):
    login = "t_passive_%d" % int(time.time() * 1000)
    H.run_cli(["user", "add", login, "--role", "employee", "--db", srv.db_path,
               "--password-stdin"], stdin=H.PASSWORD + "\n")
    name = "client_of_" + login
    srv.add_client(name, login)
    assert _works(srv, srv.new_token(name))
    uid = srv.q('SELECT id FROM "user" WHERE login=?', login)[0]["id"]
    srv.update("user", uid, {"state": "passive"})
    r = srv.request_token(name)
    _check_oauth_error(r, 401, "invalid_client")
    srv.update("user", uid, {"state": "active"})
    assert _works(srv, srv.new_token(name))
