"""Contract §9: rate limits per client and tier (index 1500, get 180, write 60 per 60 s), the
RateLimit / X-RateLimit headers, 429 with Retry-After, per-address limits on unauthenticated
traffic (docs/ratelimit.md: 60 /oauth/ calls and 20 bad-token answers per address per 60 s),
--trusted-proxy, and settings picked up by a running server.

Every test starts a site of its own WITH rate limits on (the harness serves with
`--rate-limits off`; the `limited` fixture turns them on), since budgets and per-address
counts are process state."""

import contextlib
import re
import subprocess
import threading
import time

import pytest
import requests

import grantd_harness as H
from grantd_harness import assert_error, jparse

pytestmark = pytest.mark.slow

POLICY_RE = re.compile(r'^"(index|get|write)";q=(\d+);w=60$')
RATELIMIT_RE = re.compile(r'^"(index|get|write)";r=(\d+);t=(\d+)$')
RL_HEADERS = ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
              "X-RateLimit-Reset")


@pytest.fixture
def limited(make_server):
    """limited(name, threads=2, config=None, serve_args=(), grants=20): a started site served
    with --rate-limits on (and --threads N)."""

    def factory(name, threads=2, config=None, serve_args=(), grants=20):
        s = make_server(name, grants=grants, config=config, serve_args=serve_args, start=False)
        real = subprocess.Popen

        def popen(cmd, *a, **kw):
            cmd = list(cmd)
            if "serve" in cmd:
                for i in range(len(cmd) - 1):
                    if cmd[i] == "--rate-limits":
                        cmd[i + 1] = "on"
                    elif cmd[i] == "--threads":
                        cmd[i + 1] = str(threads)
            return real(cmd, *a, **kw)

        with _patched(subprocess, "Popen", popen):
            s.start()
        return s

    return factory


@contextlib.contextmanager
def _patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def limits(r):
    """(tier, limit, remaining, reset) from an answer's headers, checked for exact syntax,
    one header line each, and agreement between the IETF and X- forms."""
    for h in RL_HEADERS:
        assert h in r.headers, "missing %s (HTTP %s): %s" % (h, r.status_code, dict(r.headers))
        assert "," not in r.headers[h], "%s sent more than once: %r" % (h, r.headers[h])
    p = POLICY_RE.match(r.headers["RateLimit-Policy"])
    m = RATELIMIT_RE.match(r.headers["RateLimit"])
    assert p, r.headers["RateLimit-Policy"]
    assert m, r.headers["RateLimit"]
    assert p.group(1) == m.group(1)
    tier, q, rem, t = p.group(1), int(p.group(2)), int(m.group(2)), int(m.group(3))
    assert r.headers["X-RateLimit-Limit"] == str(q)
    assert r.headers["X-RateLimit-Remaining"] == str(rem)
    assert r.headers["X-RateLimit-Reset"] == str(t)
    assert 0 <= rem <= q
    assert 0 <= t <= 61
    return tier, q, rem, t


def no_limits(r):
    for h in RL_HEADERS:
        assert h not in r.headers, "%s on an answer that did not pass the limiter" % h


def assert_refused(r, tier):
    """429, Retry-After (whole seconds, 1..61) and the error envelope naming the tier."""
    err = assert_error(r, 429, 429)
    assert "(tier %s)" % tier in err["message"], err
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit(), ra
    assert 1 <= int(ra) <= 61, ra
    return int(ra)


def grant_payload(s, role="admin2"):
    """Data for a grant request that passes validation (learned with another client)."""
    t = s.grant_template()
    base = {"program_organization_id": t["program_organization_id"],
            "program_id": t["program_id"], "amount_requested": "100.5",
            "project_summary": "rate limit test"}
    for _ in range(2):
        r = s.write("POST", "grant_request", None, base, role=role)
        b = jparse(r)
        if "grant_request" in b:
            return base
        err = b.get("error") or {}
        assert err.get("code") == 100, r.text[:500]
        cols = s.columns("grant_request")
        for d in err.get("details") or []:
            f = d.get("field")
            if f in cols and t.get(f) is not None:
                base[f] = s.db_value_to_api("grant_request", f, t[f])
    raise AssertionError("cannot build a valid grant request: %s" % r.text[:500])


def grant_count(s):
    return s.q("SELECT count(*) AS n FROM grant_request")[0]["n"]


def fetch(s, gid, role="admin", session=None, token=None):
    h = {"Authorization": "Bearer " + (token or s.token(role))}
    return (session or requests).get(s.url("v2/grant_request/%d" % gid), headers=h, timeout=30)


# ---- per client, per tier -------------------------------------------------------------


def test_60_creates_then_429_and_retry_after(limited):
    """Real defaults: the 60th create is accepted, the 61st refused with a Retry-After that is
    neither early nor more than ~1 s late; the slot really frees then, and not before."""
    s = limited("rl-write")
    body = grant_payload(s)
    s.token("admin")
    n0 = grant_count(s)
    t_first = time.time()
    for i in range(1, 61):
        r = s.write("POST", "grant_request", None, body)
        assert r.status_code == 200 and "grant_request" in jparse(r), (i, r.text[:300])
        tier, q, rem, t = limits(r)
        assert (tier, q, rem) == ("write", 60, 60 - i), (i, tier, q, rem)
        assert 1 <= t <= 61
    assert grant_count(s) == n0 + 60
    t_send = time.time()
    r = s.write("POST", "grant_request", None, body)
    t_recv = time.time()
    ra = assert_refused(r, "write")
    assert limits(r)[:3] == ("write", 60, 0)
    assert grant_count(s) == n0 + 60, "a refused create wrote"
    # The oldest request left the window 60 s after it was sent: retrying after Retry-After
    # must not come before that, and not more than ~1 s after (1-second buckets).
    assert t_send + ra >= t_first + 60 - 0.05, (ra, t_send - t_first)
    assert t_recv + ra <= t_first + 61 + 1.5, (ra, t_recv - t_first)
    # refused requests consume nothing and keep being refused until the slot frees
    time.sleep(max(0, t_recv + ra - 1.5 - time.time()))
    r = s.write("POST", "grant_request", None, body)
    assert_refused(r, "write")
    time.sleep(max(0, t_recv + ra + 0.1 - time.time()))
    r = s.write("POST", "grant_request", None, body)
    assert r.status_code == 200 and "grant_request" in jparse(r), r.text[:300]
    assert limits(r)[0] == "write"
    assert grant_count(s) == n0 + 61


def test_180_fetches_then_429(limited):
    s = limited("rl-get")
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    sess = requests.Session()
    for i in range(1, 181):
        r = fetch(s, gid, session=sess)
        assert r.status_code == 200 and "grant_request" in jparse(r), (i, r.text[:200])
        assert limits(r)[:3] == ("get", 180, 180 - i), i
    r = fetch(s, gid, session=sess)
    assert_refused(r, "get")
    assert limits(r)[:3] == ("get", 180, 0)
    # the other tiers of the same client are untouched
    r = s.api("GET", "v2/grant_request", params={"per_page": 1})
    assert r.status_code == 200 and limits(r)[:3] == ("index", 1500, 1499)
    r = s.api("DELETE", "v2/grant_request/999999999")
    assert_error(r, 102)
    assert limits(r)[:3] == ("write", 60, 59)


def test_1500_list_calls_then_429(limited):
    s = limited("rl-index")
    sess = requests.Session()
    h = {"Authorization": "Bearer " + s.token("admin")}
    url = s.url("v2/grant_request")
    seen = []
    for i in range(1, 1501):
        if i % 3 == 0:  # the POST .../list form is a list call too
            r = sess.post(url + "/list", data={"per_page": 1}, headers=h, timeout=30)
        else:
            r = sess.get(url, params={"per_page": 1}, headers=h, timeout=30)
        assert r.status_code == 200, (i, r.text[:200])
        tier, q, rem, t = limits(r)
        assert (tier, q) == ("index", 1500)
        seen.append(rem)
    assert seen == list(range(1499, -1, -1))
    r = sess.get(url, params={"per_page": 1}, headers=h, timeout=30)
    assert_refused(r, "index")
    assert limits(r)[:3] == ("index", 1500, 0)
    r = sess.post(url + "/list", data={"per_page": 1}, headers=h, timeout=30)
    assert_refused(r, "index")


def test_two_clients_do_not_share_budgets(limited):
    s = limited("rl-clients", config={"rate_limit.get": 5})
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    for i in range(5):
        assert fetch(s, gid, "admin").status_code == 200
    assert_refused(fetch(s, gid, "admin"), "get")
    # admin2 has the same owner user but is another client; employee another user
    for role in ("admin2", "employee"):
        for i in range(5):
            r = fetch(s, gid, role)
            assert r.status_code == 200, (role, i, r.text[:200])
            assert limits(r)[:3] == ("get", 5, 4 - i)
        assert_refused(fetch(s, gid, role), "get")
    # a new token of a refused client is the same client
    assert_refused(fetch(s, gid, token=s.new_token("admin")), "get")


def test_refused_requests_touch_nothing(limited):
    s = limited("rl-nochange", config={"rate_limit.write": 2})
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    body = grant_payload(s)
    for _ in range(2):
        assert_error(s.api("DELETE", "v2/grant_request/999999999"), 102)
    with s.unchanged():
        assert_refused(s.write("POST", "grant_request", None, body), "write")
        assert_refused(s.write("PUT", "grant_request", gid, {"project_summary": "changed"}),
                       "write")
        assert_refused(s.api("DELETE", "v2/grant_request/%d" % gid), "write")
        r = s.api("POST", "v2/grant_request/%d" % gid, headers={"X-HTTP-Method-Override": "PUT"},
                  data={"data": '{"project_summary":"x"}'})
        assert_refused(r, "write")


def test_concurrent_threads_never_exceed_the_limit(limited):
    """Eight client threads on one client against four server threads: exactly the limit is
    accepted, and every accepted answer saw a different remaining count."""
    s = limited("rl-race", threads=4, config={"rate_limit.get": 100})
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    tok = s.token("admin")
    results = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer():
        sess = requests.Session()
        mine = []
        start.wait()
        for _ in range(40):
            r = fetch(s, gid, session=sess, token=tok)
            mine.append((r.status_code, limits(r)[2], r.headers.get("Retry-After")))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert time.time() - t0 < 55, "too slow to stay within one window"
    assert len(results) == 320
    ok = [rem for st, rem, _ in results if st == 200]
    refused = [ra for st, _, ra in results if st == 429]
    assert len(ok) == 100, "accepted %d of a limit of 100" % len(ok)
    assert sorted(ok) == list(range(100))
    assert len(refused) == 220 and all(ra and ra.isdigit() for ra in refused)


def test_routes_and_tiers(limited):
    s = limited("rl-routes")
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    tok = s.token("admin")
    h = {"Authorization": "Bearer " + tok}
    cases = [
        ("GET", "v2/grant_request", {}, "index"),
        ("HEAD", "v2/grant_request", {}, "index"),
        ("GET", "v1/grant_request/list", {}, "index"),
        ("POST", "v2/grant_request/list", {}, "index"),
        ("GET", "v2/grant_request/%d" % gid, {}, "get"),
        ("HEAD", "v1/grant_request/%d" % gid, {}, "get"),
        ("POST", "v2/grant_request/%d" % gid, {"X-HTTP-Method-Override": "GET"}, "get"),
        ("PUT", "v2/grant_request/999999999", {}, "write"),
        ("DELETE", "v2/grant_request/999999999", {}, "write"),
        ("GET", "v2/no_such_class", {}, "index"),
    ]
    for method, path, extra, tier in cases:
        r = requests.request(method, s.url(path), headers=dict(h, **extra), timeout=30)
        assert limits(r)[0] == tier, (method, path, r.status_code)
    # no per-client limiter: health, unknown routes, wrong methods, OAuth, failed auth
    no_limits(requests.get(s.url("/healthz"), timeout=30))
    no_limits(requests.get(s.url("/nowhere"), headers=h, timeout=30))
    no_limits(requests.patch(s.url("v2/grant_request"), headers=h, timeout=30))
    no_limits(s.request_token("admin"))
    no_limits(requests.get(s.url("v2/grant_request"), timeout=30))


# ---- settings ---------------------------------------------------------------------------


def test_setting_change_picked_up_within_5s(limited):
    s = limited("rl-setting")
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    tok = s.token("admin")

    def policy():  # a fresh connection each time, so both workers answer
        r = requests.get(s.url("v2/grant_request/%d" % gid), timeout=30,
                         headers={"Authorization": "Bearer " + tok, "Connection": "close"})
        return r, limits(r)

    assert policy()[1][1] == 180
    H.run_cli(["config", "--db", s.db_path, "set", "rate_limit.get", "7"])
    t_set = time.time()
    seen = None
    while time.time() < t_set + 5:
        if policy()[1][1] == 7:
            seen = time.time() - t_set
            break
        time.sleep(0.1)
    assert seen is not None, "rate_limit.get=7 not applied within 5 s"
    time.sleep(max(0, t_set + 5 - time.time()))
    answers = [policy() for _ in range(12)]
    assert all(lim[1] == 7 for _, lim in answers), [lim for _, lim in answers]
    # more than 7 fetches in this window by now: the lowered limit refuses
    assert_refused(answers[-1][0], "get")
    H.run_cli(["config", "--db", s.db_path, "set", "rate_limit.get", "1000"])
    t_set = time.time()
    time.sleep(5)
    answers = [policy() for _ in range(6)]
    assert all(r.status_code == 200 and lim[1] == 1000 for r, lim in answers), \
        [(r.status_code, lim) for r, lim in answers]


def test_rate_limits_off_sends_no_headers_and_no_address_limits(make_server):
    s = make_server("rl-off")  # the harness serves with --rate-limits off
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    for _ in range(3):
        no_limits(fetch(s, gid))
    for _ in range(40):
        assert requests.get(s.url("v2/grant_request"), timeout=30,
                            headers={"Authorization": "Bearer " + "0" * 64}).status_code == 401
    for _ in range(70):
        assert s.request_token("admin").status_code == 200


# ---- per source address -------------------------------------------------------------------


def _bad(s, xff=None, token="0" * 64):
    h = {"Authorization": "Bearer " + token}
    if xff is not None:
        h["X-Forwarded-For"] = xff
    return requests.get(s.url("v2/grant_request"), headers=h, timeout=30)


def test_bad_tokens_limited_per_address(limited):
    s = limited("rl-badtok")
    good = s.token("admin")
    gid = s.q("SELECT id FROM grant_request WHERE deleted_at IS NULL LIMIT 1")[0]["id"]
    kinds = [lambda: _bad(s), lambda: _bad(s, token="nothex"),
             lambda: requests.get(s.url("v2/grant_request"), timeout=30)]
    for i in range(20):
        r = kinds[i % 3]()
        assert_error(r, 401, 401)
        no_limits(r)
    r = _bad(s)
    assert_refused(r, "bad_token")
    no_limits(r)
    assert_refused(requests.get(s.url("v2/grant_request"), timeout=30), "bad_token")
    # a valid token from the same address (a NAT, an integration host) is never locked out
    # by the bad ones: issue 12, defect 6
    for _ in range(5):
        r = fetch(s, gid, token=good)
        assert r.status_code == 200 and "grant_request" in r.json(), r.text[:300]
    assert_refused(_bad(s), "bad_token")
    # the token endpoint has its own budget; health is never limited
    assert s.request_token("admin").status_code == 200
    assert requests.get(s.url("/healthz"), timeout=30).status_code == 200


def test_token_endpoint_limited_per_address(limited):
    s = limited("rl-oauth")
    good = s.token("admin")  # 1
    cid, sec = s.clients["employee"]
    for i in range(59):  # 2..60: successes and failures alike
        if i % 2:
            r = s.request_token("employee")
            assert r.status_code == 200, r.text[:200]
        else:
            r = requests.post(s.url("/oauth/token"), timeout=30,
                              data={"grant_type": "client_credentials", "client_id": cid,
                                    "client_secret": "wrong"})
            assert r.status_code == 401, r.text[:200]
        no_limits(r)
    t0 = time.time()
    assert_refused(s.request_token("admin"), "token")
    assert_refused(requests.post(s.url("/oauth/revoke"), auth=(cid, sec),
                                 data={"token": good}, timeout=30), "token")
    r = requests.post(s.url("/oauth/introspect"), auth=(cid, sec), data={"token": good},
                      timeout=30)
    ra = assert_refused(r, "token")
    assert ra <= 61 - int(time.time() - t0) + 1
    # API calls with a token already issued are not affected
    r = s.api("GET", "v2/grant_request", token=good, params={"per_page": 1})
    assert r.status_code == 200 and limits(r)[0] == "index"


def test_trusted_proxy_uses_forwarded_address(limited):
    s = limited("rl-proxy", serve_args=["--trusted-proxy", "127.0.0.0/8,::1/128"])
    for i in range(20):
        assert _bad(s, xff="203.0.113.5").status_code == 401
    assert_refused(_bad(s, xff="203.0.113.5"), "bad_token")
    # the proxy appended its peer on the right; what the client wrote on the left is not
    # believed, and trusted hops are skipped
    assert_refused(_bad(s, xff="198.51.100.1, 203.0.113.5"), "bad_token")
    assert_refused(_bad(s, xff="203.0.113.5, 127.0.0.9"), "bad_token")
    assert_refused(_bad(s, xff="203.0.113.5:41000"), "bad_token")
    # other clients behind the same proxy keep their own budgets
    assert _bad(s, xff="203.0.113.6").status_code == 401
    assert _bad(s, xff="203.0.113.5, 203.0.113.7").status_code == 401
    assert _bad(s).status_code == 401  # the proxy itself
    # an IPv6 client is counted per /64
    for i in range(20):
        assert _bad(s, xff="2001:db8:1:2::%x" % (i + 1)).status_code == 401
    assert_refused(_bad(s, xff="2001:db8:1:2:ffff::1"), "bad_token")
    assert _bad(s, xff="2001:db8:1:3::1").status_code == 401


def test_untrusted_peer_forwarded_header_ignored(limited):
    s = limited("rl-noproxy", serve_args=["--trusted-proxy", "10.0.0.0/8"])
    for i in range(20):
        assert _bad(s, xff="203.0.113.%d" % (i + 1)).status_code == 401
    assert_refused(_bad(s, xff="192.0.2.200"), "bad_token")
    assert_refused(_bad(s), "bad_token")


@pytest.mark.parametrize("spec", ["nonsense", "10.0.0.0/33", "::1/129", "10.0.0.0/"])
def test_bad_trusted_proxy_refused_at_start(make_server, spec):
    s = make_server("rl-badcidr", start=False, seed=False, users=False)
    p = H.run_cli(["serve", "--db", s.db_path, "--listen", "127.0.0.1:0", "--threads", "1",
                   "--trusted-proxy", spec], check=False, timeout=30)
    assert p.returncode != 0
    assert "trusted-proxy" in p.stderr, p.stderr
