"""Black-box harness for grantd's API tests: builds a database with the real binary's CLI,
starts `grantd serve` on a free port, and offers small helpers (tokens, API calls, exact JSON
parsing, a read-only look at stored state through `grantd probe`, and "nothing changed"
snapshots).

Stored state is read only through `grantd probe` (the same binary, the site's --db): values of
class fields come back as the API writes them (decimals as exact text, datetimes as
YYYY-MM-DDTHH:MM:SSZ, booleans as true/false), so no test depends on an engine's encoding.

Only the Python standard library and `requests` are used (Debian python3-requests)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from decimal import Decimal

import requests

GRANTD_BIN = os.environ.get("GRANTD_BIN", "/work/main/build/grantd")
# The engine the test sites run on: SQLite files, or with GRANTD_TEST_ENGINE=postgresql one
# new database per site on the throw-away server tools/pg-test.sh started (GRANTD_PG_URL);
# tests marked sqlite_only are skipped there.
ENGINE = os.environ.get("GRANTD_TEST_ENGINE", "sqlite")
PG_URL = os.environ.get("GRANTD_PG_URL", "")
_pg_seq = [0]


def pg_database(name):
    """A new empty database on the test server; its URL."""
    assert PG_URL, "GRANTD_TEST_ENGINE=postgresql needs GRANTD_PG_URL (run under tools/pg-test.sh)"
    _pg_seq[0] += 1
    db = "t%d_%d_%s" % (os.getpid(), _pg_seq[0], re.sub(r"[^a-z0-9]", "_", name.lower())[:30])
    subprocess.run(["psql", PG_URL, "-qAt", "-v", "ON_ERROR_STOP=1", "-c",
                    'CREATE DATABASE "%s"' % db], check=True, capture_output=True, timeout=60)
    return re.sub(r"^(postgres(?:ql)?://[^/]*/)[^?]*", lambda m: m.group(1) + db, PG_URL)


def restore_backup(backup, db):
    """Make db (a site's --db) the copy `grantd backup` wrote to the file backup: the file
    itself on SQLite; on PostgreSQL, db emptied and the pg_dump archive restored into it."""
    if engine_of(db) == "sqlite":
        os.replace(backup, db)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        return
    name = re.match(r"^postgres(?:ql)?://[^/]*/([^?]*)", db).group(1)
    for sql in ('DROP DATABASE "%s" WITH (FORCE)' % name, 'CREATE DATABASE "%s"' % name):
        subprocess.run(["psql", PG_URL, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       check=True, capture_output=True, timeout=60)
    subprocess.run(["pg_restore", "--exit-on-error", "--no-owner", "--dbname", db, backup],
                   check=True, capture_output=True, timeout=300)


def new_db(name, directory):
    """The --db of a new site: a file in directory, or a new PostgreSQL database."""
    if ENGINE == "postgresql":
        return pg_database(name)
    return os.path.join(directory, "grantd.db")
PASSWORD = "correct-horse-battery-staple-42"
ROLES = ("admin", "super_user", "developer", "employee", "grantee")
JSON_CT = "application/json; charset=utf-8"
LISTEN_RE = re.compile(r"listening on https?://([0-9.]+):(\d+)")

# Every server started by the harness, so the pytest hook can print their logs.
ALL_SERVERS = []


class CLIError(AssertionError):
    pass


def run_cli(args, stdin=None, env=None, timeout=600, check=True):
    """Run `grantd ARGS`; returns CompletedProcess (text). Raises CLIError when check and rc!=0."""
    e = dict(os.environ)
    e.pop("GRANTD_DB", None)
    if env:
        e.update(env)
    p = subprocess.run([GRANTD_BIN] + list(args), input=stdin, capture_output=True,
                       text=True, env=e, timeout=timeout)
    if check and p.returncode != 0:
        raise CLIError("grantd %s failed (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                       % (" ".join(args), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, _, v = line.strip().partition("=")
            out[k.strip()] = v.strip()
    return out


def _pairs_no_dup(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise AssertionError("duplicate JSON key %r in answer" % k)
        d[k] = v
    return d


def jparse(resp_or_text):
    """Parse JSON exactly: objects keep member order (dicts), duplicate keys fail, numbers with
    a fraction become Decimal (so 0.1000000000000000055 != 0.1)."""
    text = resp_or_text if isinstance(resp_or_text, str) else resp_or_text.text
    return json.loads(text, object_pairs_hook=_pairs_no_dup, parse_float=Decimal)


def error_of(resp):
    """The error object of an answer, or None when the answer is not an error envelope."""
    try:
        b = jparse(resp)
    except ValueError:
        return None
    if isinstance(b, dict) and isinstance(b.get("error"), dict):
        return b["error"]
    return None


def assert_error(resp, code, status=200):
    err = error_of(resp)
    assert err is not None, "expected error %s, got HTTP %s: %s" % (code, resp.status_code,
                                                                   resp.text[:500])
    assert err.get("code") == code, "expected error code %s, got %r (HTTP %s)" % (
        code, err, resp.status_code)
    assert resp.status_code == status, "error %s: expected HTTP %s, got %s" % (
        code, status, resp.status_code)
    assert isinstance(err.get("message"), str) and err["message"], err
    assert resp.headers.get("Content-Type") == JSON_CT, resp.headers.get("Content-Type")
    return err


def ignored_fields(resp):
    """X-Ignored-Fields as a list of names (header is comma separated; UTF-8 '…' allowed)."""
    h = resp.headers.get("X-Ignored-Fields")
    if h is None:
        return []
    try:
        h = h.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        pass
    return [x.strip() for x in h.split(",") if x.strip()]


def probe_arg(v):
    """A Python value as a `grantd probe` query argument (typed by its prefix)."""
    if v is None:
        return "n:"
    if isinstance(v, bool):
        return "i:%d" % v
    if isinstance(v, int):
        return "i:%d" % v
    if isinstance(v, float):
        return "r:%r" % v
    if isinstance(v, (bytes, bytearray)):
        return "x:" + bytes(v).hex()
    return "s:%s" % v


def probe(db, *args):
    """`grantd probe --db DB ARGS`, its JSON answer parsed."""
    return json.loads(run_cli(["probe", "--db", db] + list(args)).stdout)


def engine_of(db):
    """The storage engine a --db value names: 'postgresql' for postgresql:// URLs."""
    return "postgresql" if re.match(r"postgres(ql)?://", db) else "sqlite"


class Server:
    """One grantd site: a database file in a temp dir, users, clients and a serving process."""

    def __init__(self, name, grants=200, random_seed=7, config=None, serve_args=(),
                 seed=True, users=True):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="grantd-%s-" % name)
        self.db_path = new_db(name, self.dir)
        self.engine = engine_of(self.db_path)
        self.proc = None
        self.wrapper = None
        self.port = None
        self.host = None
        self.scheme = "http"   # "https" when started with --tls-cert (self-signed: not verified)
        self._log = []
        self._log_lock = threading.Lock()
        self.serve_args = list(serve_args)
        self.clients = {}      # name -> (client_id, secret)
        self.user_ids = {}     # role -> user id
        self.logins = {}       # role -> login
        self.grantee_org = None
        self._tokens = {}
        self.session = requests.Session()
        ALL_SERVERS.append(self)
        run_cli(["init", "--db", self.db_path])
        for k, v in (config or {}).items():
            run_cli(["config", "--db", self.db_path, "set", k, str(v)])
        if seed:
            run_cli(["seed", "--db", self.db_path, "--grants", str(grants),
                     "--random-seed", str(random_seed)])
        if users:
            self._make_users()

    # ----- set-up ---------------------------------------------------------------------
    def _make_users(self):
        org = None
        if self.table_exists("organization") and self.table_exists("grant_request"):
            # An organization that owns grant requests, but not all of them.
            rows = self.q("SELECT program_organization_id AS o, count(*) AS n FROM grant_request "
                          "WHERE deleted_at IS NULL AND program_organization_id IS NOT NULL "
                          "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
            if rows:
                org = rows[0]["o"]
            else:
                rows = self.q("SELECT id FROM organization ORDER BY id LIMIT 1")
                org = rows[0]["id"] if rows else None
        self.grantee_org = org
        for role in ROLES:
            login = "t_" + role
            args = ["user", "add", login, "--role", role, "--db", self.db_path,
                    "--password-stdin"]
            if role == "grantee" and org is not None:
                args += ["--organization", str(org)]
            run_cli(args, stdin=PASSWORD + "\n")
            self.logins[role] = login
            self.add_client(role, login)
        self.add_client("admin_ro", self.logins["admin"], read_only=True)
        self.add_client("admin2", self.logins["admin"])
        for role in ROLES:
            rows = self.q('SELECT id FROM "user" WHERE login = ?', self.logins[role])
            self.user_ids[role] = rows[0]["id"] if rows else None

    def add_client(self, name, owner_login, read_only=False):
        args = ["client", "add", name, "--owner", owner_login, "--db", self.db_path]
        if read_only:
            args.append("--read-only")
        out = parse_kv(run_cli(args).stdout)
        assert "client_id" in out and "client_secret" in out, out
        self.clients[name] = (out["client_id"], out["client_secret"])
        return self.clients[name]

    # ----- process --------------------------------------------------------------------
    def start(self, wrapper=None, extra_args=(), timeout=60):
        """Start `grantd serve`; `wrapper` is a command prefix (e.g. strace)."""
        assert self.proc is None
        self.wrapper = wrapper
        cmd = list(wrapper or []) + [GRANTD_BIN, "serve", "--db", self.db_path, "--listen",
                                     "127.0.0.1:0", "--threads", "2", "--rate-limits", "off"]
        cmd += self.serve_args + list(extra_args)
        with self._log_lock:
            self._log.append("$ %s\n" % " ".join(cmd))
        env = dict(os.environ)
        env.pop("GRANTD_DB", None)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        found = threading.Event()

        def reader(proc):
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                with self._log_lock:
                    self._log.append(line)
                if not found.is_set():
                    m = LISTEN_RE.search(line)
                    if m:
                        self.host, self.port = m.group(1), int(m.group(2))
                        found.set()
            proc.stdout.close()

        threading.Thread(target=reader, args=(self.proc,), daemon=True).start()
        deadline = time.time() + timeout
        while not found.is_set():
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise AssertionError("grantd serve exited with %s before listening:\n%s"
                                     % (self.proc.returncode, self.log_text()[-4000:]))
            if time.time() > deadline:
                self.kill()
                raise AssertionError("grantd serve did not print 'listening on' in %ss:\n%s"
                                     % (timeout, self.log_text()[-4000:]))
            found.wait(0.1)
        while True:
            try:
                r = requests.get(self.url("/healthz"), timeout=5, verify=self.scheme == "http")
                if r.status_code == 200 and r.text.strip() == "ok":
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("grantd /healthz never answered 200 ok:\n%s"
                                     % self.log_text()[-4000:])
            time.sleep(0.1)
        self._tokens = {}
        self.session = requests.Session()
        return self

    def serving_pid(self):
        """The pid of grantd itself (differs from proc.pid under a wrapper such as strace)."""
        if not self.wrapper:
            return self.proc.pid
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def stop(self, timeout=5):
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns grantd's exit status."""
        if self.proc is None:
            return None
        pid = self.serving_pid()
        rc = None
        if self.proc.poll() is None and pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                if self.proc.pid != pid:
                    try:
                        self.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                self.proc.wait(10)
                rc = "killed after %ss" % timeout
        else:
            rc = self.proc.returncode
        self.proc = None
        self.session.close()
        return rc

    def kill(self):
        """kill -9 grantd (and wait for it)."""
        if self.proc is None:
            return
        pid = self.serving_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        self.session.close()

    def log_len(self):
        with self._log_lock:
            return len(self._log)

    def log_text(self, since=0):
        with self._log_lock:
            return "".join(self._log[since:])

    # ----- HTTP -----------------------------------------------------------------------
    def url(self, path):
        if not path.startswith("/"):
            path = "/api/rest/" + path
        return "%s://%s:%d%s" % (self.scheme, self.host, self.port, path)

    def request_token(self, client="admin", **kw):
        cid, secret = self.clients[client]
        return requests.post(self.url("/oauth/token"),
                             data={"grant_type": "client_credentials", "client_id": cid,
                                   "client_secret": secret}, timeout=30, **kw)

    def new_token(self, client="admin"):
        r = self.request_token(client)
        assert r.status_code == 200, "token for %s: %s %s" % (client, r.status_code, r.text)
        return r.json()["access_token"]

    def token(self, client="admin"):
        if client not in self._tokens:
            self._tokens[client] = self.new_token(client)
        return self._tokens[client]

    def api(self, method, path, role="admin", token=None, headers=None, **kw):
        """An authenticated API call. role names a client (admin, employee, ..., admin_ro);
        role=None sends no Authorization header."""
        h = dict(headers or {})
        if token is None and role is not None:
            token = self.token(role)
        if token is not None:
            h["Authorization"] = "Bearer " + token
        kw.setdefault("timeout", 60)
        return self.session.request(method, self.url(path), headers=h, **kw)

    # Convenience wrappers over the API (fail loudly on error envelopes).
    def list(self, cls, v="v2", role="admin", method="GET", **params):
        p = {k: (json.dumps(val) if isinstance(val, (list, dict)) else val)
             for k, val in params.items()}
        if method == "GET":
            r = self.api("GET", "%s/%s" % (v, cls), role=role, params=p)
        else:
            r = self.api("POST", "%s/%s/list" % (v, cls), role=role, data=p)
        assert r.status_code == 200, r.text[:1000]
        b = jparse(r)
        assert "error" not in b, b
        return b

    def list_ids(self, cls, v="v2", role="admin", **params):
        params.setdefault("per_page", 500)
        ids, page = [], 1
        while True:
            b = self.list(cls, v=v, role=role, page=page, **params)
            ids += [rec["id"] for rec in b["records"][cls]]
            if page >= b["total_pages"]:
                return ids
            page += 1

    def fetch(self, cls, rid, v="v2", role="admin", **params):
        p = {k: (json.dumps(val) if isinstance(val, (list, dict)) else val)
             for k, val in params.items()}
        r = self.api("GET", "%s/%s/%s" % (v, cls, rid), role=role, params=p)
        assert r.status_code == 200, r.text[:1000]
        b = jparse(r)
        assert "error" not in b, b
        return b[cls]

    def write(self, method, cls, rid=None, data=None, v="v2", role="admin", **params):
        """POST (rid None) or PUT a record with data as a JSON string in a form body."""
        p = {k: (json.dumps(val) if isinstance(val, (list, dict)) else val)
             for k, val in params.items()}
        p["data"] = json.dumps(data or {})
        path = "%s/%s" % (v, cls) if rid is None else "%s/%s/%s" % (v, cls, rid)
        return self.api(method, path, role=role, data=p)

    def create(self, cls, data, v="v2", role="admin", **params):
        r = self.write("POST", cls, None, data, v=v, role=role, **params)
        assert r.status_code == 200, r.text[:1000]
        b = jparse(r)
        assert "error" not in b, "create %s %s: %s" % (cls, data, b)
        return b[cls]

    def update(self, cls, rid, data, v="v2", role="admin", **params):
        r = self.write("PUT", cls, rid, data, v=v, role=role, **params)
        assert r.status_code == 200, r.text[:1000]
        b = jparse(r)
        assert "error" not in b, "update %s/%s %s: %s" % (cls, rid, data, b)
        return b[cls]

    def delete(self, cls, rid, v="v2", role="admin"):
        r = self.api("DELETE", "%s/%s/%s" % (v, cls, rid), role=role)
        assert r.status_code == 200 and r.text == "true", (r.status_code, r.text[:500])
        return r

    # ----- seeded-data helpers ----------------------------------------------------------
    def grant_template(self):
        """A live seeded grant request (the one with the most non-null columns)."""
        rows = self.q("SELECT * FROM grant_request WHERE deleted_at IS NULL "
                      "AND program_organization_id IS NOT NULL AND program_id IS NOT NULL "
                      "ORDER BY id LIMIT 50")
        assert rows, "the seed produced no grant requests with organization and program"
        for r in rows:  # the record's version is its ETag, no field of the record
            r.pop("lock_version", None)
        return max(rows, key=lambda r: sum(v is not None for v in r.values()))

    def create_grant(self, role="admin", data=None, v="v2", **params):
        """Create a grant request that passes validation: a base set of fields, and if the
        registry requires more, the values of a seeded grant for the fields it names."""
        t = self.grant_template()
        base = {"program_organization_id": t["program_organization_id"],
                "program_id": t["program_id"], "amount_requested": "12345.5",
                "project_summary": "created by the API test suite"}
        base.update(data or {})
        r = self.write("POST", "grant_request", None, base, role=role, v=v, **params)
        b = jparse(r)
        err = b.get("error") if isinstance(b, dict) else None
        if err and err.get("code") == 100 and err.get("details"):
            cols = self.columns("grant_request")
            for d in err["details"]:
                f = d.get("field")
                if f in cols and f not in (data or {}) and t.get(f) is not None:
                    base[f] = self.db_value_to_api("grant_request", f, t[f])
            r = self.write("POST", "grant_request", None, base, role=role, v=v, **params)
            b = jparse(r)
        self.last_response = r
        assert r.status_code == 200 and "grant_request" in b, "create grant: %s" % r.text[:1000]
        return b["grant_request"]

    def db_value_to_api(self, table, col, value):
        """A value read with q() as an API input value: the probe already prints class
        fields as the API does, so this is the value itself."""
        return value

    # ----- stored state (read-only, through `grantd probe`) -----------------------------
    def probe(self, *args):
        return probe(self.db_path, *args)

    def q(self, sql, *args):
        """Rows of one read-only query as dicts; class fields in the API's form."""
        return self.probe(sql, *[probe_arg(a) for a in args])

    def table_exists(self, name):
        return name in self.data_tables()

    def columns(self, table):
        return [c["name"] for c in self.probe("--columns", table)]

    def column_types(self, table):
        return {c["name"]: c["type"] for c in self.probe("--columns", table)}

    def data_tables(self):
        return sorted(self.probe("--tables"))

    def snapshot(self):
        """table -> (row count, sha256 of every row): the API-visible data of the site."""
        return {t: tuple(v) for t, v in self.probe("--digest").items()}

    def sqlite_only_write(self, *statements):
        """Run SQL statements (text, or (text, args) pairs) in one transaction straight on
        the SQLite file, for the few tests about SQLite internals (full-text index
        maintenance, an old schema). Only tests marked `sqlite_only` may call it: every
        other test reads through the probe and writes through the API or the CLI."""
        assert self.engine == "sqlite", "sqlite_only_write on a %s site" % self.engine
        import sqlite3  # pylint: disable=import-outside-toplevel
        c = sqlite3.connect(self.db_path, timeout=30)
        try:
            c.execute("PRAGMA busy_timeout=30000")
            with c:
                for st in statements:
                    sql, args = (st, ()) if isinstance(st, str) else st
                    c.execute(sql, args)
        finally:
            c.close()

    @contextlib.contextmanager
    def unchanged(self):
        """Asserts that the block changed no API-visible table."""
        before = self.snapshot()
        yield
        after = self.snapshot()
        changed = [t for t in set(before) | set(after) if before.get(t) != after.get(t)]
        assert not changed, "database changed by a request that must change nothing: %s" % (
            sorted(changed))


def unix_time(text):
    """'YYYY-MM-DDTHH:MM:SSZ' (a datetime as the API and the probe print it) -> unix seconds."""
    import calendar
    return None if text is None else calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
