"""Issue 5: sign-in for people, sessions, CSRF, throttling, who sees what (contract §3, §8),
site-status gating (§10), and /oauth/applications (same data as `grantd client`)."""

import hashlib
import http.client
import json
import re
import time
import urllib.parse

import pytest
import requests

import grantd_harness as H
from grantd_harness import JSON_CT, assert_error, jparse

pytestmark = pytest.mark.roles

DOCS_OK = ("admin", "super_user", "developer")
MANAGE_OK = ("admin", "super_user")
DOC_PAGES = ("/api/rest/v2/doc", "/api/rest/v1/doc", "/api/rest/v2/grant_request/doc",
             "/api/rest/v1/GrantRequest/doc")
JSON_ROUTES = ("/api/rest/v2/classes", "/api/rest/v2/grant_request/fields",
               "/api/rest/v2/openapi.json", "/api/rest/v2/postman.json")
APPS = "/oauth/applications"


# ---------------------------------------------------------------- helpers

def form_token(text):
    m = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', text)
    assert m, "no csrf_token in the form:\n" + text[:2000]
    return m.group(1)


def new_browser():
    s = requests.Session()
    s.headers["User-Agent"] = "grantd-tests"
    return s


def sign_in(srv, role="admin", login=None, password=H.PASSWORD, browser=None, next_=None):
    """Sign in through the form; returns (session, answer of the POST)."""
    b = browser or new_browser()
    r = b.get(srv.url("/login"), timeout=30)
    assert r.status_code == 200, r.text[:500]
    data = {"csrf_token": form_token(r.text), "login": login or srv.logins[role],
            "password": password}
    if next_ is not None:
        data["next"] = next_
    r = b.post(srv.url("/login"), data=data, allow_redirects=False, timeout=60)
    return b, r


def signed_in(srv, role="admin"):
    b, r = sign_in(srv, role)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return b


def page_csrf(b, srv, path="/api/rest/v2/doc"):
    r = b.get(srv.url(path), timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return form_token(r.text)


def create_app(srv, b, name="web app", read_only=False, redirect_uri=""):
    token = page_csrf(b, srv, APPS)
    data = {"csrf_token": token, "name": name, "redirect_uri": redirect_uri}
    if read_only:
        data["read_only"] = "1"
    r = b.post(srv.url(APPS), data=data, allow_redirects=False, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    cid = re.search(r'<code id="client_id">([0-9a-f]{64})</code>', r.text).group(1)
    secret = re.search(r'<code id="client_secret" class="secret">([0-9a-f]{64})</code>',
                       r.text).group(1)
    return cid, secret, r


def token_for(srv, cid, secret):
    return requests.post(srv.url("/oauth/token"), data={
        "grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        timeout=30)


def put_program(srv, token, prog, desc):
    return srv.api("PUT", "v2/program/%d" % prog, token=token,
                   data={"data": json.dumps({"description": desc})})


def app_post(srv, b, cid, action, **extra):
    token = page_csrf(b, srv, "%s/%s" % (APPS, cid))
    data = {"csrf_token": token}
    data.update(extra)
    return b.post(srv.url("%s/%s/%s" % (APPS, cid, action)), data=data, allow_redirects=False,
                  timeout=30)


def is_login_redirect(r, path=None):
    if r.status_code != 303:
        return False
    loc = r.headers.get("Location", "")
    return loc.startswith("/login") and (path is None or requests.utils.quote(path, safe="")
                                         in loc)


# ---------------------------------------------------------------- sign-in

def test_login_form_sets_a_session_cookie(srv):
    b, r = sign_in(srv, "admin", next_="/api/rest/v2/user/doc")
    assert r.status_code == 303, r.text[:500]
    assert r.headers["Location"] == "/api/rest/v2/user/doc"
    cookies = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("grantd_session=")]
    assert len(cookies) == 1, r.raw.headers.getlist("Set-Cookie")
    attrs = [a.strip() for a in cookies[0].split(";")]
    value = attrs[0].split("=", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{64}", value)
    low = [a.lower() for a in attrs]
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low
    assert "max-age=28800" in low
    assert "secure" not in low, "Secure only under TLS"
    # Stored hashed, never as the cookie value.
    rows = srv.q("SELECT hash, user_id FROM grantd_session")  # blobs come as hex text
    digests = {r_["hash"] for r_ in rows}
    assert hashlib.sha256(value.encode()).hexdigest() in digests
    assert value not in digests
    r = b.get(srv.url("/api/rest/v2/user/doc"), timeout=30)
    assert r.status_code == 200 and "<table" in r.text


@pytest.mark.parametrize("login,password", [("t_admin", "wrong password"),
                                            ("nobody_here", H.PASSWORD), ("t_admin", "")])
def test_wrong_credentials(srv, login, password):
    b, r = sign_in(srv, login=login, password=password)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert "Wrong login or password" in r.text
    assert "grantd_session" not in b.cookies
    r = b.get(srv.url("/api/rest/v2/doc"), allow_redirects=False, timeout=30)
    assert is_login_redirect(r)


def test_login_form_needs_its_csrf_token(srv):
    b = new_browser()
    # No sign-in cookie at all.
    r = b.post(srv.url("/login"), data={"login": "t_admin", "password": H.PASSWORD,
                                        "csrf_token": "0" * 64}, allow_redirects=False, timeout=30)
    assert r.status_code == 403 and "grantd_session" not in b.cookies
    # The cookie, but a token that does not belong to it.
    r = b.get(srv.url("/login"), timeout=30)
    good = form_token(r.text)
    bad = ("1" if good[0] != "1" else "2") + good[1:]
    for tok in (bad, ""):
        r = b.post(srv.url("/login"), data={"login": "t_admin", "password": H.PASSWORD,
                                            "csrf_token": tok}, allow_redirects=False, timeout=30)
        assert r.status_code == 403, r.status_code
        assert "grantd_session" not in b.cookies
    # Another browser's valid token does not work with this browser's cookie.
    other = new_browser()
    other_tok = form_token(other.get(srv.url("/login"), timeout=30).text)
    r = b.post(srv.url("/login"), data={"login": "t_admin", "password": H.PASSWORD,
                                        "csrf_token": other_tok}, allow_redirects=False,
               timeout=30)
    assert r.status_code == 403


@pytest.mark.parametrize("nxt", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                 "javascript:alert(1)"])
def test_next_stays_on_this_site(srv, nxt):
    b, r = sign_in(srv, "developer", next_=nxt)
    assert r.status_code == 303 and r.headers["Location"] == "/api/rest/v2/doc"


def test_root_redirects_to_docs(srv):
    r = requests.get(srv.url("/"), allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/api/rest/v2/doc"


# ---------------------------------------------------------------- who sees what

def test_signed_out(srv):
    for path in DOC_PAGES + (APPS,):
        r = requests.get(srv.url(path), allow_redirects=False, timeout=30)
        assert is_login_redirect(r, path), (path, r.status_code, r.headers)
    for path in JSON_ROUTES:
        r = requests.get(srv.url(path), timeout=30)
        assert_error(r, 401, status=401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer realm=\"grantd\"")
    # The redirect leads back after sign-in.
    r = requests.get(srv.url("/api/rest/v2/program/doc"), allow_redirects=False, timeout=30)
    b = new_browser()
    page = b.get(srv.url(r.headers["Location"]), timeout=30)
    assert 'name="next" value="/api/rest/v2/program/doc"' in page.text


@pytest.mark.parametrize("role", H.ROLES)
def test_session_access_by_role(srv, role):
    b = signed_in(srv, role)
    for path in DOC_PAGES + JSON_ROUTES:
        r = b.get(srv.url(path), allow_redirects=False, timeout=60)
        if role in DOCS_OK:
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        else:
            assert r.status_code == 403, (path, r.status_code)
            if path in DOC_PAGES:
                assert "text/html" in r.headers["Content-Type"]
                assert "developer" in r.text and role in r.text, r.text[:2000]
            else:
                assert_error(r, 403, status=403)
    r = b.get(srv.url(APPS), allow_redirects=False, timeout=30)
    if role in MANAGE_OK:
        assert r.status_code == 200 and "New application" in r.text
    else:
        assert r.status_code == 403 and "Only admin and super_user" in r.text
        # The form is refused too, whatever the token.
        tok = form_token(b.get(srv.url("/api/rest/v2/doc"), timeout=30).text) \
            if role in DOCS_OK else "0" * 64
        before = srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"]
        r = b.post(srv.url(APPS), data={"csrf_token": tok, "name": "sneaky"},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 403
        assert srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"] == before


@pytest.mark.parametrize("role", H.ROLES)
def test_bearer_access_by_role(srv, role):
    for path in DOC_PAGES + JSON_ROUTES:
        r = srv.api("GET", path, role=role, allow_redirects=False)
        if role in DOCS_OK:
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        elif path in DOC_PAGES:
            assert r.status_code == 403 and "text/html" in r.headers["Content-Type"]
        else:
            assert_error(r, 403, status=403)
    # Applications are managed only in a signed-in browser.
    r = srv.api("GET", APPS, role=role, allow_redirects=False)
    assert is_login_redirect(r)


def test_bad_bearer_tokens(srv):
    for tok in ("f" * 64, "nonsense"):
        for path in JSON_ROUTES + DOC_PAGES:
            r = srv.api("GET", path, token=tok)
            assert_error(r, 401, status=401)
            assert "invalid_token" in r.headers["WWW-Authenticate"]


@pytest.mark.sqlite_only  # ages the session by a direct write (no API or CLI can)
def test_expired_session(srv):
    b = signed_in(srv, "admin")
    assert b.get(srv.url("/api/rest/v2/doc"), timeout=30).status_code == 200
    digest = hashlib.sha256(b.cookies["grantd_session"].encode()).digest()
    # Neither the API nor the CLI can age a session (8 h, no setting): the one direct write.
    srv.sqlite_only_write(("UPDATE grantd_session SET expires_at = strftime('%s','now') - 1 "
                           "WHERE hash = ?", (digest,)))
    r = b.get(srv.url("/api/rest/v2/doc"), allow_redirects=False, timeout=30)
    assert is_login_redirect(r)
    assert b.get(srv.url("/api/rest/v2/classes"), timeout=30).status_code == 401
    assert not srv.q("SELECT 1 FROM grantd_session WHERE hash = ?", digest)


def test_session_of_a_deleted_user_ends(srv):
    H.run_cli(["user", "add", "web_tmp_dev2", "--role", "developer", "--db", srv.db_path,
               "--password-stdin"], stdin=H.PASSWORD + "\n")
    b, r = sign_in(srv, login="web_tmp_dev2")
    assert r.status_code == 303
    assert b.get(srv.url("/api/rest/v2/doc"), timeout=30).status_code == 200
    uid = srv.q('SELECT id FROM "user" WHERE login = ?', "web_tmp_dev2")[0]["id"]
    srv.delete("user", uid)
    assert is_login_redirect(b.get(srv.url("/api/rest/v2/doc"), allow_redirects=False,
                                   timeout=30))


def test_logout_needs_csrf(srv):
    b = signed_in(srv, "super_user")
    tok = page_csrf(b, srv)
    r = b.post(srv.url("/logout"), data={"csrf_token": "0" * 64}, allow_redirects=False,
               timeout=30)
    assert r.status_code == 403 and "CSRF" in r.text
    assert b.get(srv.url("/api/rest/v2/doc"), timeout=30).status_code == 200
    r = b.post(srv.url("/logout"), data={"csrf_token": tok}, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert is_login_redirect(b.get(srv.url("/api/rest/v2/doc"), allow_redirects=False,
                                   timeout=30))


def test_csrf_token_is_per_session(srv):
    a = signed_in(srv, "admin")
    c = signed_in(srv, "admin")
    ta, tc = page_csrf(a, srv, APPS), page_csrf(c, srv, APPS)
    assert ta != tc
    before = srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"]
    r = a.post(srv.url(APPS), data={"csrf_token": tc, "name": "cross"}, allow_redirects=False,
               timeout=30)
    assert r.status_code == 403
    assert srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"] == before


def test_pages_carry_security_headers(srv):
    b = signed_in(srv, "admin")
    for path in ("/login", "/api/rest/v2/doc", "/api/rest/v2/grant_request/doc", APPS):
        r = b.get(srv.url(path), timeout=30)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = r.headers["Content-Security-Policy"]
        nonce = re.search(r"script-src 'nonce-([0-9a-f]{32})'", csp).group(1)
        assert '<script nonce="%s">' % nonce in r.text
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers.get("X-Request-Id")
        assert '<meta name="viewport"' in r.text


# ---------------------------------------------------------------- site status

@pytest.mark.slow
def test_site_status_gates_the_docs(make_server):
    s = make_server("webstatus", grants=5)
    b = signed_in(s, "developer")
    s.token("developer"), s.token("admin")  # tokens issued before the suspension

    def set_status(v):
        H.run_cli(["config", "--db", s.db_path, "set", "site_status", v])
        time.sleep(2.6)  # a running server picks it up within 5 s (contract §10)

    for status in ("implementation", "live"):
        set_status(status)
        for path in DOC_PAGES + JSON_ROUTES:
            assert b.get(s.url(path), timeout=30).status_code == 200, (status, path)
            assert s.api("GET", path, role="developer").status_code == 200
    set_status("suspended")
    for path in DOC_PAGES:
        r = b.get(s.url(path), timeout=30)
        assert r.status_code == 503 and "text/html" in r.headers["Content-Type"], path
        assert "suspended" in r.text and "Traceback" not in r.text
    for path in JSON_ROUTES:
        assert_error(b.get(s.url(path), timeout=30), 503, status=503)
        assert_error(s.api("GET", path, role="developer"), 503, status=503)
    r = b.get(s.url(APPS), timeout=30)
    assert r.status_code == 503 and "suspended" in r.text
    assert_error(s.api("GET", "v2/grant_request"), 503, status=503)
    set_status("live")
    assert b.get(s.url("/api/rest/v2/doc"), timeout=30).status_code == 200


@pytest.mark.slow
def test_failed_sign_ins_are_throttled_per_address(make_server):
    s = make_server("webthrottle", grants=2)
    b = new_browser()
    tok = form_token(b.get(s.url("/login"), timeout=30).text)
    codes = []
    for i in range(20):
        r = b.post(s.url("/login"), data={"csrf_token": tok, "login": "t_admin",
                                          "password": "wrong %d" % i}, allow_redirects=False,
                   timeout=60)
        codes.append(r.status_code)
    assert codes == [401] * 20, codes
    # Refused now, even with the right password; nothing is verified or counted.
    r = b.post(s.url("/login"), data={"csrf_token": tok, "login": "t_admin",
                                      "password": H.PASSWORD}, allow_redirects=False, timeout=60)
    assert r.status_code == 429, r.status_code
    assert 1 <= int(r.headers["Retry-After"]) <= 61
    assert "Too many failed sign-ins" in r.text and "grantd_session" not in b.cookies
    # Bearer-token traffic is not affected.
    assert s.api("GET", "/api/rest/v2/classes", role="developer").status_code == 200


def _sign_in_behind_proxy(s, b, tok, forwarded, password):
    """POST /login with one X-Forwarded-For header line per item of `forwarded`."""
    body = urllib.parse.urlencode({"csrf_token": tok, "login": "t_admin",
                                   "password": password})
    conn = http.client.HTTPConnection(s.host, s.port, timeout=60)
    try:
        conn.putrequest("POST", "/login")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Cookie", "; ".join("%s=%s" % (k, v) for k, v in b.cookies.items()))
        for hop in forwarded:
            conn.putheader("X-Forwarded-For", hop)
        conn.endheaders(body.encode())
        return conn.getresponse().status
    finally:
        conn.close()


def test_sign_in_throttle_believes_only_the_proxys_hops(make_server):
    """Behind a trusted proxy the address is the rightmost untrusted X-Forwarded-For hop,
    whatever number of header lines the client added on the left."""
    s = make_server("webproxy", grants=2, serve_args=["--trusted-proxy", "127.0.0.0/8"])
    b = new_browser()
    tok = form_token(b.get(s.url("/login"), timeout=30).text)
    codes = [_sign_in_behind_proxy(s, b, tok, ["10.9.%d.%d" % (i, j) for j in range(9)] +
                                   ["203.0.113.5"], "wrong %d" % i) for i in range(20)]
    assert codes == [401] * 20, codes
    assert _sign_in_behind_proxy(s, b, tok, ["10.1.1.1"] * 12 + ["203.0.113.5"],
                                 H.PASSWORD) == 429
    # another client behind the same proxy keeps its own budget
    assert _sign_in_behind_proxy(s, b, tok, ["10.1.1.1"] * 12 + ["203.0.113.6"],
                                 "wrong") == 401


# ---------------------------------------------------------------- /oauth/applications

def test_app_secret_is_shown_once(srv):
    b = signed_in(srv, "admin")
    cid, secret, r = create_app(srv, b, name="shown once", redirect_uri="https://app.example/cb")
    assert r.headers["Cache-Control"] == "no-store"
    assert "shown only on this page" in r.text
    row = srv.q("SELECT secret_hash, name, redirect_uri, read_only, owner_id FROM grantd_client "
                "WHERE client_id = ?", cid)[0]
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["name"] == "shown once" and row["redirect_uri"] == "https://app.example/cb"
    assert row["read_only"] == 0 and row["owner_id"] == srv.user_ids["admin"]
    tok = token_for(srv, cid, secret)
    assert tok.status_code == 200, tok.text
    for path in (APPS, "%s/%s" % (APPS, cid)):
        page = b.get(srv.url(path), timeout=30)
        assert page.status_code == 200
        assert secret not in page.text
    show = b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30).text
    assert cid in show and "https://app.example/cb" in show and "hidden" in show
    # Same data as `grantd client list`.
    out = H.run_cli(["client", "list", "--db", srv.db_path]).stdout
    line = [l for l in out.splitlines() if l.startswith(cid)]
    assert line and "shown once" in line[0] and "owner=t_admin" in line[0]
    # ...and the CLI's clients are on the page.
    cli_id = srv.clients["admin_ro"][0]
    assert cli_id[:12] in b.get(srv.url(APPS), timeout=30).text


def test_revoking_an_app_fails_its_tokens_at_once(srv):
    b = signed_in(srv, "super_user")
    cid, secret, _ = create_app(srv, b, name="to revoke")
    token = token_for(srv, cid, secret).json()["access_token"]
    assert srv.api("GET", "v2/program", token=token).status_code == 200
    r = app_post(srv, b, cid, "revoke")
    assert r.status_code == 303 and r.headers["Location"] == "%s/%s?done=revoked" % (APPS, cid)
    r = srv.api("GET", "v2/program", token=token)
    assert_error(r, 401, status=401)
    assert "revoked" in r.headers["WWW-Authenticate"]
    assert token_for(srv, cid, secret).status_code == 401
    page = b.get(srv.url("%s/%s?done=revoked" % (APPS, cid)), timeout=30).text
    assert '<td id="status">revoked' in page and "Revoke</button>" not in page
    # Rotating a revoked application is refused.
    r = b.post(srv.url("%s/%s/rotate" % (APPS, cid)), data={"csrf_token": page_csrf(b, srv)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 409


def test_rotate_secret(srv):
    b = signed_in(srv, "admin")
    cid, old, _ = create_app(srv, b, name="to rotate")
    r = app_post(srv, b, cid, "rotate")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = re.search(r'<code id="client_secret" class="secret">([0-9a-f]{64})</code>',
                    r.text).group(1)
    assert new != old
    assert token_for(srv, cid, old).status_code == 401
    assert token_for(srv, cid, new).status_code == 200
    assert new not in b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30).text


def test_read_only_flag(srv):
    b = signed_in(srv, "admin")
    cid, secret, _ = create_app(srv, b, name="ro toggle")
    token = token_for(srv, cid, secret).json()["access_token"]
    prog = srv.q("SELECT id FROM program WHERE deleted_at IS NULL ORDER BY id LIMIT 1")[0]["id"]
    r = put_program(srv, token, prog, "rw ok")
    assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
    r = app_post(srv, b, cid, "read_only", read_only="1")
    assert r.status_code == 303
    assert_error(put_program(srv, token, prog, "no"), 403, status=403)
    assert srv.api("GET", "v2/program/%d" % prog, token=token).status_code == 200
    page = b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30).text
    assert '<td id="access">read-only</td>' in page
    app_post(srv, b, cid, "read_only", read_only="0")
    r = put_program(srv, token, prog, "rw again")
    assert r.status_code == 200 and "error" not in jparse(r)
    # Created read-only from the form.
    cid2, secret2, _ = create_app(srv, b, name="ro from start", read_only=True)
    assert srv.q("SELECT read_only FROM grantd_client WHERE client_id = ?", cid2)[0]["read_only"]


def test_app_forms_need_csrf(srv):
    b = signed_in(srv, "admin")
    cid, secret, _ = create_app(srv, b, name="csrf target")
    before = srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"]
    for tok in ("0" * 64, "", None):
        data = {"name": "forged"}
        if tok is not None:
            data["csrf_token"] = tok
        r = b.post(srv.url(APPS), data=data, allow_redirects=False, timeout=30)
        assert r.status_code == 403 and "CSRF" in r.text
        for action in ("revoke", "rotate", "read_only"):
            r = b.post(srv.url("%s/%s/%s" % (APPS, cid, action)), data=dict(data, read_only="1"),
                       allow_redirects=False, timeout=30)
            assert r.status_code == 403, action
    assert srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"] == before
    row = srv.q("SELECT revoked_at, read_only, secret_hash FROM grantd_client "
                "WHERE client_id = ?", cid)[0]
    assert row["revoked_at"] is None and row["read_only"] == 0
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()


def test_app_names_are_escaped(srv):
    b = signed_in(srv, "admin")
    evil = "<script>alert('x')</script> & \"q\""
    cid, _, r = create_app(srv, b, name=evil)
    for text in (r.text, b.get(srv.url(APPS), timeout=30).text,
                 b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30).text):
        assert "<script>alert" not in text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;" in text


@pytest.mark.parametrize("name,uri", [("", ""), ("x" * 101, ""), ("ok", "ftp://x"),
                                      ("ok", "https://a b"), ("tab\there", "")])
def test_app_form_validation(srv, name, uri):
    b = signed_in(srv, "admin")
    before = srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"]
    r = b.post(srv.url(APPS), data={"csrf_token": page_csrf(b, srv, APPS), "name": name,
                                    "redirect_uri": uri}, allow_redirects=False, timeout=30)
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert srv.q("SELECT count(*) AS n FROM grantd_client")[0]["n"] == before


def test_unknown_app(srv):
    b = signed_in(srv, "admin")
    for cid in ("0" * 64, "nothex", "a" * 63):
        r = b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30)
        assert r.status_code == 404 and "No such application" in r.text


def test_wrong_methods(srv):
    for method, path in (("GET", "/logout"), ("DELETE", APPS), ("POST", "/api/rest/v2/doc"),
                         ("PUT", "/api/rest/v2/grant_request/doc"),
                         ("POST", "/api/rest/v2/openapi.json"),
                         ("GET", APPS + "/" + "a" * 64 + "/revoke")):
        r = requests.request(method, srv.url(path), allow_redirects=False, timeout=30)
        assert r.status_code == 405, (method, path, r.status_code)


def test_super_user_cannot_manage_an_admins_application(srv):
    """Issue 12 (review): a super_user rotating an admin's client would get a secret whose
    tokens act as the admin. Applications of a higher-ranked owner are not shown, and every
    action on them answers 404, as for a missing one."""
    cid, secret = srv.clients["admin2"]
    before = token_for(srv, cid, secret)
    assert before.status_code == 200
    b = signed_in(srv, "super_user")
    listing = b.get(srv.url(APPS), timeout=30)
    assert listing.status_code == 200 and cid[:12] not in listing.text
    assert b.get(srv.url("%s/%s" % (APPS, cid)), timeout=30).status_code == 404
    token = page_csrf(b, srv, APPS)
    for action in ("rotate", "revoke", "read_only"):
        r = b.post(srv.url("%s/%s/%s" % (APPS, cid, action)), data={"csrf_token": token},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 404, (action, r.status_code)
    # nothing changed: the admin's secret still works and its token is not read-only
    assert token_for(srv, cid, secret).status_code == 200
    # the super_user's own applications remain its to manage
    own, _, _ = create_app(srv, b, name="su app")
    assert app_post(srv, b, own, "rotate").status_code == 200
