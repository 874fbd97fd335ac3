"""Contract §10: the command line (help, init, config, backup, seed, serve signals, site
status)."""

import json
import os
import signal
import tempfile
import threading
import time

import pytest
import requests

import grantd_harness as H
from grantd_harness import jparse, run_cli

pytestmark = pytest.mark.cli

SUBCOMMANDS = [["init"], ["config"], ["seed"], ["user"], ["user", "add"], ["client"],
               ["client", "add"], ["client", "list"], ["client", "revoke"],
               ["client", "rotate-secret"], ["backup"], ["optimize"], ["probe"], ["serve"]]


@pytest.fixture
def tmpdb():
    d = tempfile.mkdtemp(prefix="grantd-cli-")
    return os.path.join(d, "cli.db")


@pytest.fixture(autouse=True)
def _binary():
    if not os.access(H.GRANTD_BIN, os.X_OK):
        pytest.fail("grantd binary not found at %s" % H.GRANTD_BIN, pytrace=False)


@pytest.mark.parametrize("sub", SUBCOMMANDS, ids=[" ".join(s) for s in SUBCOMMANDS])
def test_help(sub, tmpdb):
    p = run_cli(sub + ["--help"], check=False, env={"GRANTD_DB": tmpdb}, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 0, (p.returncode, out)
    assert "usage" in out.lower(), out
    assert sub[0] in out, out
    assert not os.path.exists(tmpdb), "--help must not create a database"


def test_top_level_help():
    p = run_cli(["--help"], check=False, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "usage" in out.lower(), out
    for sub in ("init", "config", "seed", "user", "client", "backup", "optimize", "probe",
                "serve"):
        assert sub in out, sub


def test_unknown_subcommand_fails():
    p = run_cli(["frobnicate"], check=False, timeout=30)
    assert p.returncode != 0


def _digest(db):
    return H.probe(db, "--digest")


def test_init_refuses_existing_db_without_force(tmpdb):
    run_cli(["init", "--db", tmpdb])
    run_cli(["config", "--db", tmpdb, "set", "site_url", "https://keep.example.org"])
    run_cli(["seed", "--db", tmpdb, "--grants", "3"])
    before = _digest(tmpdb)
    assert before["grant_request"][0] == 3
    p = run_cli(["init", "--db", tmpdb], check=False)
    assert p.returncode != 0, p
    assert _digest(tmpdb) == before
    assert "keep.example.org" in run_cli(["config", "--db", tmpdb, "get", "site_url"]).stdout
    run_cli(["init", "--db", tmpdb, "--force"])
    assert "keep.example.org" not in run_cli(["config", "--db", tmpdb, "get", "site_url"]).stdout


def test_init_options(tmpdb):
    run_cli(["init", "--db", tmpdb, "--site-url", "https://g.example.org", "--site-status", "live"])
    assert "https://g.example.org" in run_cli(["config", "--db", tmpdb, "get", "site_url"]).stdout
    assert "live" in run_cli(["config", "--db", tmpdb, "get", "site_status"]).stdout
    other = tmpdb + ".2"
    p = run_cli(["init", "--db", other, "--site-status", "bogus"], check=False)
    assert p.returncode != 0


def test_grantd_db_environment_variable(tmpdb):
    run_cli(["init"], env={"GRANTD_DB": tmpdb})
    assert os.path.exists(tmpdb)
    run_cli(["config", "set", "time_zone", "America/New_York"], env={"GRANTD_DB": tmpdb})
    assert _get(tmpdb, "time_zone") == "America/New_York"


def _get(db, key):
    out = run_cli(["config", "--db", db, "get", key]).stdout.strip()
    kv = H.parse_kv(out)
    return kv.get(key, out)


def test_config_roundtrip(tmpdb):
    run_cli(["init", "--db", tmpdb])
    defaults = {"error_status": "fluxx", "token_lifetime": "7200", "time_zone": "UTC"}
    for k, v in defaults.items():
        assert _get(tmpdb, k) == v, k
    for k, v in (("time_zone", "Europe/Berlin"), ("error_status", "http"),
                 ("token_lifetime", "600"), ("site_url", "https://x.example.org"),
                 ("site_status", "suspended"), ("fiscal_year_start_month", "7"),
                 ("rate_limit.index", "100"), ("rate_limit.get", "50"),
                 ("rate_limit.write", "10")):
        run_cli(["config", "--db", tmpdb, "set", k, v])
        assert _get(tmpdb, k) == v, k
    everything = run_cli(["config", "--db", tmpdb, "get"]).stdout
    for k in ("site_url", "site_status", "error_status", "token_lifetime", "time_zone",
              "week_start", "fiscal_year_start_month", "rate_limit.index", "rate_limit.get",
              "rate_limit.write"):
        assert k in everything, k
    assert "Europe/Berlin" in everything


@pytest.mark.parametrize("key,value", [("no_such_key", "1"), ("time_zone", "Mars/Olympus_Mons"),
                                       ("time_zone", "../../etc/passwd"),
                                       ("error_status", "other"), ("site_status", "asleep"),
                                       ("token_lifetime", "soon"), ("token_lifetime", "-5"),
                                       ("fiscal_year_start_month", "13"),
                                       ("rate_limit.write", "many")])
def test_config_rejects_bad_keys_and_values(tmpdb, key, value):
    run_cli(["init", "--db", tmpdb])
    before = run_cli(["config", "--db", tmpdb, "get"]).stdout
    p = run_cli(["config", "--db", tmpdb, "set", key, value], check=False)
    assert p.returncode != 0, (key, value, p.stdout, p.stderr)
    assert (p.stderr + p.stdout).strip(), "a refusal says why"
    assert run_cli(["config", "--db", tmpdb, "get"]).stdout == before


def test_config_get_unknown_key_fails(tmpdb):
    run_cli(["init", "--db", tmpdb])
    assert run_cli(["config", "--db", tmpdb, "get", "nope"], check=False).returncode != 0


def test_commands_without_database_fail(tmpdb):
    for args in (["config", "--db", tmpdb, "get"], ["seed", "--db", tmpdb, "--grants", "1"],
                 ["client", "list", "--db", tmpdb]):
        p = run_cli(args, check=False)
        assert p.returncode != 0, args


def test_seed_is_deterministic():
    a = H.Server("seed-a", grants=15, random_seed=3, users=False)
    b = H.Server("seed-b", grants=15, random_seed=3, users=False)
    c = H.Server("seed-c", grants=15, random_seed=4, users=False)
    q = ("SELECT id, state, amount_requested, program_organization_id, program_id "
         "FROM grant_request ORDER BY id")
    assert a.q(q) == b.q(q)
    assert len(a.q(q)) == 15
    assert a.q(q) != c.q(q)


def test_user_add_and_client_add(tmpdb):
    run_cli(["init", "--db", tmpdb])
    run_cli(["user", "add", "someone", "--role", "developer", "--db", tmpdb, "--password-stdin"],
            stdin="a-long-enough-password\n")
    p = run_cli(["user", "add", "someone", "--role", "developer", "--db", tmpdb,
                 "--password-stdin"], stdin="a-long-enough-password\n", check=False)
    assert p.returncode != 0, "a duplicate login must be refused"
    p = run_cli(["user", "add", "other", "--role", "pope", "--db", tmpdb, "--password-stdin"],
                stdin="a-long-enough-password\n", check=False)
    assert p.returncode != 0, "an unknown role must be refused"
    out = H.parse_kv(run_cli(["client", "add", "app", "--owner", "someone", "--db",
                              tmpdb]).stdout)
    assert len(out.get("client_id", "")) >= 16 and len(out.get("client_secret", "")) >= 43, out
    p = run_cli(["client", "add", "app2", "--owner", "nobody", "--db", tmpdb], check=False)
    assert p.returncode != 0, "a client needs an existing owner"


def test_optimize_while_serving_keeps_search_results(srv):
    word = "op" + os.urandom(4).hex()
    g = srv.create_grant(data={"project_summary": "orchard " + word})
    before = srv.list("grant_request", query="orchard", per_page=500)
    run_cli(["optimize", "--db", srv.db_path])
    assert srv.list_ids("grant_request", query=word) == [g["id"]]
    assert srv.list("grant_request", query="orchard", per_page=500) == before
    p = run_cli(["optimize", "--db", srv.db_path, "extra"], check=False)
    assert p.returncode == 2


@pytest.mark.sqlite_only
def test_optimize_leaves_a_sound_fts5_index(srv):
    """SQLite's FTS5 merge (what optimize does there) keeps the index consistent with its
    content: FTS5's own integrity check, a command written as an INSERT (it fails with an
    error when the index is corrupt, and changes nothing)."""
    srv.create_grant(data={"project_summary": "orchard " + os.urandom(4).hex()})
    run_cli(["optimize", "--db", srv.db_path])
    srv.sqlite_only_write("INSERT INTO grant_request__fts(grant_request__fts) "
                          "VALUES('integrity-check')",
                          "INSERT INTO grant_request__fts_deleted(grant_request__fts_deleted) "
                          "VALUES('integrity-check')")


def test_backup_while_serving(srv):
    d = tempfile.mkdtemp(prefix="grantd-backup-")
    dest = os.path.join(d, "copy.db")
    g = srv.create_grant(data={"project_summary": "in the backup"})
    run_cli(["backup", "--db", srv.db_path, "--to", dest])
    if srv.engine == "sqlite":  # the copy is a database file: SQLite's own check of it
        assert H.probe(dest, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    # The copy (restored with pg_restore on PostgreSQL) holds the data and is a working site.
    b = H.Server("backup-copy", seed=False, users=False)
    H.restore_backup(dest, b.db_path)
    assert H.probe(b.db_path, "SELECT project_summary FROM grant_request WHERE id = ?",
                   H.probe_arg(g["id"])) == [{"project_summary": "in the backup"}]
    n = H.probe(b.db_path, "SELECT count(*) AS n FROM grant_request")[0]["n"]
    assert n == srv.q("SELECT count(*) AS n FROM grant_request")[0]["n"]
    b.clients = srv.clients
    b.start()
    try:
        assert b.fetch("grant_request", g["id"], cols=["project_summary"])["project_summary"] \
            == "in the backup"
    finally:
        b.stop()


@pytest.mark.slow
def test_sigterm_exits_0(make_server):
    s = make_server("sigterm", grants=3)
    s.list("grant_request", per_page=1)
    assert s.stop(timeout=10) == 0


@pytest.mark.slow
def test_sigterm_under_write_load_answers_and_exits_0(make_server):
    """Answers held for the flusher when SIGTERM arrives still go out (or the client is
    gone); the process exits 0 and every acknowledged create is stored."""
    for attempt in range(2):
        s = make_server("sigtermw%d" % attempt, grants=5)
        t = s.grant_template()
        tok = s.token()
        stop = threading.Event()
        acked, lock = [], threading.Lock()

        def load():
            sess = requests.Session()
            body = {"data": json.dumps({"program_organization_id": t["program_organization_id"],
                                        "program_id": t["program_id"],
                                        "project_summary": "sigterm load"})}
            while not stop.is_set():
                try:
                    r = sess.post(s.url("v2/grant_request"), data=body, timeout=5,
                                  headers={"Authorization": "Bearer " + tok})
                except requests.RequestException:
                    time.sleep(0.005)
                    continue
                if r.status_code == 200 and "grant_request" in r.text:
                    with lock:
                        acked.append(jparse(r)["grant_request"]["id"])

        threads = [threading.Thread(target=load) for _ in range(16)]
        for th in threads:
            th.start()
        time.sleep(0.8)
        rc = s.stop(timeout=10)
        stop.set()
        for th in threads:
            th.join()
        assert rc == 0, s.log_text()[-2000:]
        assert acked
        stored = {r["id"] for r in s.q("SELECT id FROM grant_request")}
        assert set(acked) <= stored


@pytest.mark.slow
def test_port_zero_one_port_for_all_threads(make_server):
    s = make_server("threads", grants=3)
    tok = s.token()
    # Many fresh connections all reach the one printed port.
    for _ in range(20):
        r = requests.get(s.url("v2/grant_request"), headers={"Authorization": "Bearer " + tok},
                         params={"per_page": 1}, timeout=10)
        assert r.status_code == 200


@pytest.mark.slow
def test_suspended_site_answers_503(make_server):
    s = make_server("suspend", grants=3)
    tok = s.token()
    assert s.api("GET", "v2/grant_request", token=tok).status_code == 200
    run_cli(["config", "--db", s.db_path, "set", "site_status", "suspended"])
    deadline = time.time() + 7
    while True:
        r = s.api("GET", "v2/grant_request", token=tok)
        if r.status_code == 503 or time.time() > deadline:
            break
        time.sleep(0.25)
    assert r.status_code == 503, "site_status=suspended not picked up within 5 s"
    assert jparse(r)["error"]["code"] == 503
    # each worker thread re-reads the setting on its own (within 5 s, contract §10): the
    # token call may land on the other one, so it gets the same allowance
    while s.request_token("admin").status_code != 503:
        assert time.time() < deadline + 5, "the token endpoint still serves a suspended site"
        time.sleep(0.25)
    run_cli(["config", "--db", s.db_path, "set", "site_status", "live"])
    deadline = time.time() + 7
    while s.api("GET", "v2/grant_request", token=tok).status_code != 200:
        assert time.time() < deadline, "site_status=live not picked up within 5 s"
        time.sleep(0.25)


@pytest.mark.slow
def test_sigint_exits_0(make_server):
    s = make_server("sigint", grants=3)
    s.list("grant_request", per_page=1)
    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(10) == 0
    s.proc = None


def test_seed_refuses_a_seeded_database():
    a = H.Server("seed-twice", grants=3, users=False)
    p = run_cli(["seed", "--db", a.db_path, "--grants", "3"], check=False)
    assert p.returncode != 0
    assert a.q("SELECT count(*) AS n FROM grant_request")[0]["n"] == 3


def test_access_log_format(srv):
    mark = srv.log_len()
    rid = "logcheck-" + str(time.time())
    srv.api("GET", "v2/grant_request", params={"per_page": 1}, headers={"X-Request-Id": rid})
    time.sleep(0.3)
    lines = [l for l in srv.log_text(mark).splitlines() if rid in l]
    assert len(lines) == 1, srv.log_text(mark)
    line = lines[0]
    assert "GET" in line and "/api/rest/v2/grant_request" in line and " 200 " in line, line
    assert srv.clients["admin"][0] in line, line
    assert "per_page" not in line, line


def test_serve_without_database_fails(tmpdb):
    p = run_cli(["serve", "--db", tmpdb, "--listen", "127.0.0.1:0"], check=False, timeout=20)
    assert p.returncode != 0
    assert not os.path.exists(tmpdb) or os.path.getsize(tmpdb) == 0
