"""Property test of the authorization policy (issue 12, part 2; contract sections 4, 5, 8).

Random users of every role send random requests, generated from the live class and field
lists (`GET /api/rest/v2/classes`, `GET /api/rest/v2/<class>/fields`), over every read route
(list GET and POST /list, fetch, v1 and v2) and parameter kind (cols, relation, style,
filter with cross-class groups, sort, query, group/aggregation, deleted, paging), and
random writes (create, update, delete, with references drawn from every id of the target
class). The oracles, all through the HTTP API:

* reads: every record id in an answer (top-level records, relation expansions, has-many id
  arrays) is one the same user can fetch directly (a singular reference's own value,
  `program_id: 12` or `created_by: [5]`, is a value of the record, as a direct fetch shows),
  and every value shown for it equals what that direct fetch shows (a plain `*_id`
  integer is compared with the direct fetch of its record, not fetched itself); a group
  value of a reference is an id the user can fetch, and groups, counts and sums equal what
  the user's own scoped list gives; a cross-class filter matches only through related
  records the user can list; full-text matches only on text the user can see; a field
  shown masked to the user is not filterable, sortable, groupable or aggregatable (code
  103); never a 500.
* writes: an accepted write was on a record the writer could fetch, leaves the record
  fetchable by the writer, and every reference it set points to a record the writer could
  fetch before and can fetch after; nobody changes, deactivates or deletes a user of a
  higher role (admin > super_user > employee > developer > grantee) or gives a role above
  their own; a refused write changes nothing (the admin's view before and after).

Knobs: GRANTD_PROPERTY_SEED (default 1207), GRANTD_PROPERTY_SECONDS (time budget of the
random phase, default 60; `make property-long` runs it longer). Every violation is
collected with the seed, the user and the exact request (and a curl line to replay it);
the test fails at the end with a summary by kind and the first 20 in full."""

import json
import os
import random
import re
import time
import unicodedata
import urllib.parse
from decimal import Decimal

import pytest

import grantd_harness as H

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("GRANTD_PROPERTY_SEED", "1207"))
BUDGET = float(os.environ.get("GRANTD_PROPERTY_SECONDS", "60"))
RANK = {"grantee": 0, "developer": 1, "employee": 2, "super_user": 3, "admin": 4}
SEES_MASKED = ("admin", "super_user")
SECRET_GUESSES = ("encrypted_password", "crypted_password", "password", "password_digest",
                  "password_salt", "persistence_token", "single_access_token", "mfa_secret",
                  "mfa_otp_secret", "otp_secret", "api_key", "client_secret")
ALL_OPS = ("eq not-eq lt lte gt gte null not-null range range-year-cal range-year-fiscal "
           "yesterday today tomorrow last-n-days next-n-days days-n-ago last-week this-week "
           "next-week last-n-weeks next-n-weeks weeks-n-ago last-month this-month next-month "
           "last-n-months next-n-months months-n-ago last-quarter this-quarter next-quarter "
           "last-n-quarters next-n-quarters quarters-n-ago last-year this-year next-year "
           "last-n-years next-n-years years-n-ago last-fiscal-quarter this-fiscal-quarter "
           "next-fiscal-quarter last-n-fiscal-quarters next-n-fiscal-quarters "
           "fiscal-n-quarters-ago last-fiscal this-fiscal next-fiscal-year last-n-fiscal-years "
           "next-n-fiscal-years fiscal-n-years-ago contains starts_with not-starts_with like "
           "not-like").split()
TEXT_OPS = ("eq", "not-eq", "contains", "starts_with", "not-starts_with", "like", "not-like",
            "null", "not-null", "lt", "gt")
NUM_OPS = ("eq", "not-eq", "lt", "lte", "gt", "gte", "range", "null", "not-null")
DATE_OPS = ("eq", "lt", "gte", "range", "this-year", "last-n-years", "next-n-years",
            "range-year-cal", "last-n-days", "null", "not-null", "years-n-ago")
BOOL_OPS = ("eq", "not-eq", "null", "not-null")
OPS_BY_TYPE = {"string": TEXT_OPS, "text": TEXT_OPS, "integer": NUM_OPS, "decimal": NUM_OPS,
               "float": NUM_OPS, "date": DATE_OPS, "datetime": DATE_OPS, "boolean": BOOL_OPS}
NUMERIC = ("integer", "decimal", "float")
WORDS = ("education", "water", "college", "Paris", "housing", "prop", "zzqx", "rural", "ü")
MAX_REPORT = 20
# References that decide whose a record is (the grantee scope): written more often.
SCOPE_REFS = ("program_organization_id", "fiscal_organization_id", "request_id", "user_id",
              "organization_id", "owner_organization_id", "owner_user_id", "grant_id",
              "request_transaction_id", "organization_payee_id", "user_payee_id", "report_id")


# --------------------------------------------------------------------------- model

class Abort(Exception):
    """grantd stopped answering: end the random phase and report what was found."""


class Actor:
    def __init__(self, login, role, client, uid):
        self.login, self.role, self.client, self.uid = login, role, client, uid

    def __repr__(self):
        return "%s (role %s, user id %s)" % (self.login, self.role, self.uid)


class Schema:
    """Classes and fields as GET /classes and GET /<class>/fields tell an admin."""

    def __init__(self, classes, fields):
        self.classes = classes                      # name -> class entry
        self.fields = fields                        # name -> {field name -> entry}
        self.names = sorted(classes)

    def f(self, cls, name):
        return self.fields[cls].get(name)

    def target(self, cls, name):
        f = self.f(cls, name)
        t = f and f.get("related_class")
        return t if t in self.fields else None

    def is_ref_column(self, cls, name):
        f = self.f(cls, name)
        return bool(f and f["type"] == "column" and self.target(cls, name))

    def rel_names(self, cls):
        """Fields that name records of another class: reference columns, aliases, has-many."""
        return [n for n in sorted(self.fields[cls]) if self.target(cls, n)]

    def columns(self, cls):
        return [n for n, f in sorted(self.fields[cls].items()) if f["type"] == "column"]

    def singular_rel(self, cls, rel):
        """'program_organization' or 'created_by' -> (fk column, target) or None."""
        if self.is_ref_column(cls, rel + "_id"):
            return rel + "_id", self.target(cls, rel + "_id")
        f = self.f(cls, rel)
        if f and f["type"] == "relation" and not f["plural"] and self.target(cls, rel):
            fk = rel + "_id" if self.f(cls, rel + "_id") else None
            return fk, self.target(cls, rel)
        return None

    def masked(self, cls, name):
        f = self.f(cls, name)
        return bool(f and f.get("masked"))

    def writers(self, cls):
        w = self.classes[cls].get("writers") or ""
        return {r for r in RANK if re.search(r"\b%s\b" % r, w)}


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()


def words_of(s):
    return re.findall(r"[^\W_]+", fold(s))


def jkey(v):
    return json.dumps(v, sort_keys=True, default=str)


def ids_in(v):
    """Ids in a reference value: an int, a list of ints, or a list of expanded records."""
    if isinstance(v, bool) or v is None:
        return [], []
    if isinstance(v, int):
        return [v], []
    out, recs = [], []
    if isinstance(v, list):
        for x in v:
            if isinstance(x, dict):
                recs.append(x)
                if isinstance(x.get("id"), int):
                    out.append(x["id"])
            elif isinstance(x, int) and not isinstance(x, bool):
                out.append(x)
    return out, recs


def err_of(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return None


def is_not_found(e):
    return e is not None and (e.get("code") == 102 or e.get("reason") == "not_found")


# --------------------------------------------------------------------------- the run

class Run:
    def __init__(self, srv, seed):
        self.srv = srv
        self.seed = seed
        self.rng = random.Random(seed)
        self.violations = []
        self.kinds = {}
        self.requests = 0
        self.stats = {}
        self.write_errors = {}
        self.denied = {}          # (role, class) -> fields a refusal said the role may not set
        self.actors = []
        self.protected_users = set()
        self.victims = []
        self.tokens = {}          # client name -> access token
        self.clear_caches()

    # ----- HTTP -----------------------------------------------------------------------
    def encode(self, params, body):
        """Parameters as sent: JSON text values, or Rails nested keys (cols[]=a,
        filter[grant_request][state][]=x) for body 'rails'."""
        if body != "rails":
            return [(k, json.dumps(v) if isinstance(v, (list, dict)) else str(v))
                    for k, v in params.items()]
        out = []

        def flat(key, v):
            if isinstance(v, dict):
                for k2, v2 in v.items():
                    flat("%s[%s]" % (key, k2), v2)
            elif isinstance(v, list) and all(not isinstance(x, (list, dict)) for x in v):
                out.extend(("%s[]" % key, json.dumps(x) if isinstance(x, bool) else str(x))
                           for x in v)
            elif isinstance(v, list):
                out.append((key, json.dumps(v)))
            else:
                out.append((key, json.dumps(v) if isinstance(v, bool) else str(v)))
        for k, v in params.items():
            flat(k, v)
        return out

    def send(self, actor, method, path, params=None, body="query", headers=None):
        """One API call. body: 'query' or 'rails' (GET parameters), 'form' or 'json' (POST
        body). Returns (response, parsed body or None, request description)."""
        params = dict(params or {})
        kw = {}
        if body == "query" or (body == "rails" and method == "GET"):
            kw["params"] = self.encode(params, body)
        elif body in ("form", "rails"):
            kw["data"] = self.encode(params, body)
        else:
            kw["json"] = json.loads(json.dumps(params, default=str))
        self.requests += 1
        req = {"method": method, "path": "/api/rest/" + path, "body": body, "params": params,
               "n": self.requests}
        if headers:
            req["headers"] = headers
        for attempt in (0, 1):
            if actor.client not in self.tokens:
                self.tokens[actor.client] = self.srv.new_token(actor.client)
            try:
                r = self.srv.api(method, path, token=self.tokens[actor.client],
                                 headers=headers, **kw)
            except Exception as e:                  # no answer: grantd died or hung
                self.violation("no answer (did grantd die?)", actor, req, repr(e)[:300])
                raise Abort() from e
            if r.status_code != 401 or attempt:
                break
            self.tokens.pop(actor.client)               # expired: one fresh token
        try:
            b = H.jparse(r)
        except ValueError:
            b = None
        except AssertionError as e:             # a duplicate key: keep the last, report it
            self.violation("duplicate key in a JSON answer (not a scope leak)", actor, req,
                           str(e))
            b = json.loads(r.text, parse_float=Decimal)
        if r.status_code >= 500:
            self.violation("HTTP %d" % r.status_code, actor, req, r.text[:300])
        return r, b, req

    def replay(self, req):
        url = self.srv.url(req["path"])
        enc = self.encode(req["params"], req["body"])
        hdr = "".join(" -H '%s: %s'" % kv for kv in (req.get("headers") or {}).items())
        if req["body"] == "query" or (req["body"] == "rails" and req["method"] == "GET"):
            q = urllib.parse.urlencode(enc)
            return "curl -X %s%s -H \"Authorization: Bearer $TOKEN\" '%s%s'" % (
                req["method"], hdr, url, "?" + q if q else "")
        if req["body"] == "json":
            return ("curl -X %s%s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: "
                    "application/json' '%s' -d '%s'" % (req["method"], hdr, url,
                                                        json.dumps(req["params"], default=str)))
        parts = " ".join("--data-urlencode %s" % json.dumps("%s=%s" % kv) for kv in enc)
        return "curl -X %s%s -H \"Authorization: Bearer $TOKEN\" '%s' %s" % (
            req["method"], hdr, url, parts)

    def violation(self, kind, actor, req, detail):
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if self.kinds[kind] > 50:
            return
        self.violations.append({"kind": kind, "actor": repr(actor), "detail": detail,
                                "request": "#%d: %s %s %s" % (
                                    req["n"], req["method"], req["path"],
                                    json.dumps(req["params"], default=str)),
                                "replay": self.replay(req)})

    # ----- direct fetches (the ground truth) --------------------------------------------
    def clear_caches(self):
        self.fetch_cache = {}
        self.full_cache = {}
        self.list_cache = {}

    def fetch(self, actor, cls, rid, cached=True):
        """The user's direct fetch (v2, all columns), or None when it answers not found."""
        key = (actor.login, cls, rid)
        if cached and key in self.fetch_cache:
            return self.fetch_cache[key]
        r, b, req = self.send(actor, "GET", "v2/%s/%s" % (cls, rid))
        e = err_of(b)
        rec = None
        if r.status_code == 200 and e is None and isinstance(b, dict) and cls in b:
            rec = b[cls]
        elif not is_not_found(e) and r.status_code < 500:
            self.violation("direct fetch neither answers nor says not found", actor, req,
                           r.text[:300])
        self.fetch_cache[key] = rec
        return rec

    def visible(self, actor, cls, rid, cached=True):
        return self.fetch(actor, cls, rid, cached) is not None

    def fetch_full(self, actor, cls, rid):
        """The user's direct fetch naming every field of the class in cols (computed fields,
        aliases and has-many id arrays too, which a plain fetch leaves out)."""
        key = (actor.login, cls, rid)
        if key not in self.full_cache:
            names = sorted(self.schema.fields[cls])
            r, b, _ = self.send(actor, "GET", "v2/%s/%s" % (cls, rid), {"cols": names})
            rec = {}
            if r.status_code == 200 and err_of(b) is None and isinstance(b, dict):
                rec = b.get(cls) or {}
            self.full_cache[key] = rec
        return self.full_cache[key]

    def list_all(self, actor, cls, params=None, limit=2000):
        """Every record of a user's list (all pages), or (None, error) past limit/error."""
        key = (actor.login, cls, jkey(params or {}))
        if key in self.list_cache:
            return self.list_cache[key]
        out, page = [], 1
        while True:
            p = dict(params or {})
            p.update(per_page=500, page=page)
            r, b, _ = self.send(actor, "GET", "v2/" + cls, p)
            e = err_of(b)
            if r.status_code != 200 or e is not None or not isinstance(b, dict):
                res = (None, e or {"status": r.status_code})
                break
            out += b["records"][cls]
            if page >= b["total_pages"] or len(out) > limit:
                res = (out, None) if len(out) <= limit else (None, {"too": "many"})
                break
            page += 1
        self.list_cache[key] = res
        return res

    # ----- set-up ---------------------------------------------------------------------
    def admin_get(self, path, **params):
        r, b, req = self.send(self.root, "GET", path, params)
        assert r.status_code == 200 and err_of(b) is None, (req, r.text[:500])
        return b

    def admin_write(self, method, cls, rid, data):
        path = "v2/%s" % cls if rid is None else "v2/%s/%s" % (cls, rid)
        r, b, _ = self.send(self.root, method, path, {"data": data}, body="form")
        if r.status_code == 200 and err_of(b) is None and isinstance(b, dict):
            return b.get(cls)
        return None

    def load_schema(self):
        cl = self.admin_get("v2/classes")["classes"]
        classes = {c["name"]: c for c in cl}
        fields = {}
        for c in sorted(classes):
            fl = self.admin_get("v2/%s/fields" % c)["fields"]
            fields[c] = {f["name"]: f for f in fl}
        self.schema = Schema(classes, fields)

    def refresh_universe(self):
        """Every record of every class as the admin sees it (deleted ones too)."""
        self.universe = {}
        for c in self.schema.names:
            recs = self.list_all(self.root, c, {"deleted": "include"}, limit=100000)[0] or []
            self.universe[c] = {r["id"]: r for r in recs}
        self.all_ids = {c: sorted(v) for c, v in self.universe.items()}

    def user_id(self, login):
        b = self.admin_get("v2/user", filter=["login", "eq", login], cols=["id"])
        recs = b["records"]["user"]
        assert recs, "no user %s" % login
        return recs[0]["id"]

    def add_user(self, login, role, org=None, client=True):
        args = ["user", "add", login, "--role", role, "--db", self.srv.db_path,
                "--password-stdin"]
        if org is not None:
            args += ["--organization", str(org)]
        H.run_cli(args, stdin=H.PASSWORD + "\n")
        uid = self.user_id(login)
        if client:
            self.srv.add_client(login, login)
            self.actors.append(Actor(login, role, login, uid))
        return uid

    def setup(self):
        srv = self.srv
        self.root = Actor(srv.logins["admin"], "admin", "admin", None)
        self.load_schema()
        self.root.uid = self.user_id(self.root.login)
        for role in H.ROLES:
            login = srv.logins[role]
            self.actors.append(Actor(login, role, role, self.user_id(login)))
        # Organizations: A is the harness grantee's, B owns most of the other grants, C few.
        groups = self.admin_get("v2/grant_request", group=["program_organization_id"],
                                aggregation={"id": "count"}, per_page=500)
        counted = sorted(((g["id_count"], g["program_organization_id"])
                          for g in groups["records"]["grant_request"]
                          if g.get("program_organization_id")), reverse=True)
        org_a = srv.grantee_org
        others = [o for _, o in counted if o != org_a]
        org_b = others[0]
        all_orgs = self.admin_get("v2/organization", per_page=500, cols=["id"])
        org_ids = [r["id"] for r in all_orgs["records"]["organization"]]
        idle = [o for o in org_ids if o not in dict((o, 1) for _, o in counted)]
        org_c = idle[0] if idle else others[-1]
        self.orgs = (org_a, org_b, org_c)
        self.add_user("p_admin2", "admin")
        self.add_user("p_super2", "super_user")
        self.add_user("p_developer2", "developer")
        self.add_user("p_employee2", "employee")
        self.add_user("p_grantee_a2", "grantee", org_a)
        self.add_user("p_grantee_b", "grantee", org_b)
        self.add_user("p_grantee_c", "grantee", org_c)
        # A seeded grantee of yet another organization, with a client of its own.
        seeded = self.admin_get("v2/user", filter=["role", "eq", "grantee"], per_page=500,
                                cols=["id", "login"])["records"]["user"]
        links = self.admin_get("v2/user_organization", per_page=500,
                               cols=["user_id", "organization_id"])["records"]
        org_of = {l["user_id"]: l.get("organization_id") for l in links["user_organization"]}
        for u in seeded:
            if org_of.get(u["id"]) not in (None,) + self.orgs and u["login"].count("."):
                srv.add_client(u["login"], u["login"])
                self.actors.append(Actor(u["login"], "grantee", u["login"], u["id"]))
                break
        self.protected_users = {a.uid for a in self.actors} | {self.root.uid}
        # Victims: users of every role, some inside the grantee organizations, no clients.
        for role in ("admin", "super_user", "employee", "developer", "grantee"):
            self.add_user("v_%s_a" % role, role, org_a, client=False)
            self.add_user("v_%s_x" % role, role, None, client=False)
        self.add_user("v_grantee_b", "grantee", org_b, client=False)
        self.victims = [self.user_id("v_%s_%s" % (r, s)) for r in RANK for s in "ax"]
        self.enrich()

    def enrich(self):
        """Give the empty classes a few records (admin, through the API), so that masked
        bank numbers, budgets, amendments and allocations take part."""
        rng = random.Random(self.seed * 7 + 1)
        self.refresh_universe()
        u = self.universe
        org_a, org_b, org_c = self.orgs
        owners = [org_a, org_a, org_b, org_c] + rng.sample(self.all_ids["organization"], 3)
        staff = [i for i, r in sorted(u["user"].items()) if r.get("role") == "employee"]
        bank = []
        for n, org in enumerate(owners + [None, None]):
            data = {"account_name": "Operating account %d" % n,
                    "bank_name": "Bank of prop %d" % n,
                    "account_number": "".join(rng.choice("0123456789") for _ in range(12)),
                    "domestic_wire_aba_routing": "".join(rng.choice("0123456789")
                                                         for _ in range(9)),
                    "bank_code": "BC%06d" % rng.randrange(10 ** 6)}
            if org is not None:
                data["owner_organization_id"] = org
            else:
                data["owner_user_id"] = rng.choice(staff)
            rec = self.admin_write("POST", "bank_account", None, data)
            if rec:
                bank.append(rec["id"])
        grants = self.all_ids["grant_request"]
        g_of = {o: [g for g in grants if u["grant_request"][g].get("program_organization_id")
                    == o] for o in self.orgs}
        txs = sorted(u["request_transaction"])
        for t in txs:
            req = u["request_transaction"][t].get("request_id")
            for o in (org_a, org_b):
                if req in g_of[o] and bank and rng.random() < 0.7:
                    self.admin_write("PUT", "request_transaction", t,
                                     {"bank_account_id": rng.choice(bank)})
        for g in rng.sample(grants, 10) + g_of[org_a][:3]:
            self.admin_write("POST", "budget_request", None,
                             {"request_id": g, "name": "Budget line %d" % g,
                              "amount_requested": "%d.25" % rng.randrange(1000, 90000)})
        for g in rng.sample(grants, 5) + g_of[org_a][:2]:
            self.admin_write("POST", "request_amendment", None,
                             {"request_id": g, "note": "Amendment of %d" % g})
        fsa = []
        for fs in self.all_ids["funding_source"][:4]:
            rec = self.admin_write("POST", "funding_source_allocation", None,
                                   {"funding_source_id": fs,
                                    "program_id": rng.choice(self.all_ids["program"])})
            if rec:
                fsa.append(rec["id"])
        for g in rng.sample(grants, 6) + g_of[org_a][:2]:
            if fsa:
                self.admin_write("POST", "request_funding_source", None,
                                 {"request_id": g, "funding_source_allocation_id":
                                  rng.choice(fsa)})
        for n in range(2):
            self.admin_write("POST", "user_profile", None, {"name": "Profile %d" % n})
        for g in g_of[org_a][:1] + g_of[org_b][:1]:
            self.admin_write("POST", "model_document", None,
                             {"documentable_type": "GrantRequest", "documentable_id": g,
                              "document_file_name": "report-%d.pdf" % g})
        # Soft-deleted records, so that deleted=include|only has something to show.
        for cls, pick in (("grant_request", g_of[org_a][-1:]), ("bank_account", bank[:1]),
                          ("budget_request", [])):
            for rid in pick:
                self.send(self.root, "DELETE", "v2/%s/%s" % (cls, rid))
        self.refresh_universe()

    # ----- generators -------------------------------------------------------------------
    def pick_class(self):
        hot = ("grant_request", "user", "organization", "bank_account", "request_transaction",
               "user_organization", "workflow_event", "request_report", "program")
        if self.rng.random() < 0.6:
            return self.rng.choice([c for c in hot if c in self.schema.fields])
        return self.rng.choice(self.schema.names)

    def sample_value(self, cls, name):
        """A value some record of the class has (as the admin sees it), or a made-up one."""
        vals = [r[name] for r in self.universe.get(cls, {}).values()
                if r.get(name) is not None]
        if vals and self.rng.random() < 0.85:
            return self.rng.choice(vals)
        f = self.schema.f(cls, name) or {}
        return self.made_up(f)

    def made_up(self, f):
        dt = f.get("data_type")
        if f.get("values"):
            return self.rng.choice(f["values"])
        return {"integer": self.rng.choice([0, 1, 3, 42]),
                "decimal": self.rng.choice(["12.5", "1000", "0.0001"]),
                "float": 1.5, "boolean": self.rng.choice([True, False]),
                "date": "2024-02-29", "datetime": "2024-03-01T10:00:00Z"}.get(
                    dt, self.rng.choice(["prop text", "Zoë Ünïcode", "9012"]))

    def gen_cols(self, cls):
        names = sorted(self.schema.fields[cls])
        cols = self.rng.sample(names, min(len(names), self.rng.randint(1, 8)))
        if self.rng.random() < 0.15:
            cols.append(self.rng.choice(SECRET_GUESSES + ("nope_field", "program_organization")))
        return cols

    def gen_relation(self, cls, v):
        rels = self.schema.rel_names(cls)
        out = {}
        for name in self.rng.sample(rels, min(len(rels), self.rng.randint(1, 3))):
            t = self.schema.target(cls, name)
            if v == "v1" and self.rng.random() < 0.5:
                out[name] = self.rng.choice(["compact", "detail", "full"])
                continue
            tnames = sorted(self.schema.fields[t])
            sub = self.rng.sample(tnames, min(len(tnames), self.rng.randint(1, 5)))
            if self.rng.random() < 0.1:
                sub.append(self.rng.choice(SECRET_GUESSES))
            out[name] = sub
        if self.rng.random() < 0.05:
            out["nope_relation"] = ["id"]
        return out

    def gen_triple(self, cls, depth):
        sch, rng = self.schema, self.rng
        rels = [n for n in sch.rel_names(cls)]
        if depth < 2 and rels and rng.random() < 0.25:
            rel = rng.choice(rels)
            return [rel, "filter", self.gen_group(sch.target(cls, rel), depth + 1)]
        if rng.random() < 0.03:
            return ["nope_field", "eq", "x"]
        name = rng.choice(sch.columns(cls))
        f = sch.f(cls, name)
        dt = f["data_type"]
        op = rng.choice(OPS_BY_TYPE.get(dt, TEXT_OPS)) if rng.random() < 0.93 else \
            rng.choice(ALL_OPS)
        val = self.sample_value(cls, name)
        if op in ("null", "not-null") or (op.endswith(("-week", "-month", "-quarter",
                                                        "-year", "-fiscal", "yesterday",
                                                        "today", "tomorrow")) and
                                          "-n-" not in op):
            operand = "-"
        elif "-n-" in op:
            operand = rng.randint(1, 4)
        elif op == "range-year-cal":
            operand = rng.choice(["2020 - 2022", "2021"])
        elif op == "range":
            if dt in ("date", "datetime"):
                operand = "2020-01-01 - %s" % str(val)[:10] if isinstance(val, str) else \
                    "2020-01-01 - 2022-12-31"
            elif dt in NUMERIC:
                operand = "0 - %s" % val
            else:
                operand = "a - %s" % val
        elif op in ("contains", "starts_with", "not-starts_with") and isinstance(val, str):
            operand = val[:rng.randint(1, max(1, len(val)))] if op != "contains" else \
                val[rng.randint(0, max(0, len(val) - 1)):][:rng.randint(1, 6)]
        elif op in ("like", "not-like") and isinstance(val, str):
            operand = "%" + val[:3] + "%"
        elif isinstance(val, Decimal):
            operand = str(val)
        elif dt in ("date", "datetime") and isinstance(val, str):
            operand = val[:10]
        else:
            operand = val
        return [name, op, operand]

    def gen_group(self, cls, depth=0):
        rng = self.rng
        if rng.random() < 0.35:
            return self.gen_triple(cls, depth)
        conds = []
        for _ in range(rng.randint(1, 3)):
            if depth < 2 and rng.random() < 0.15:
                conds.append(self.gen_group(cls, depth + 1))
            else:
                conds.append(self.gen_triple(cls, depth))
        return {"group_type": rng.choice(["and", "and", "or", "not-and", "not-or"]),
                "conditions": conds}

    def gen_filter(self, cls):
        rng = self.rng
        r = rng.random()
        if r < 0.1:
            name = rng.choice(self.schema.columns(cls))
            vals = [self.sample_value(cls, name) for _ in range(rng.randint(1, 2))]
            vals = [str(v) if isinstance(v, Decimal) else v for v in vals]
            return {cls: {name: vals}} if rng.random() < 0.5 else {name: vals[0]}
        if r < 0.35:
            rels = self.schema.rel_names(cls)
            if rels:
                rel = rng.choice(rels)
                return [rel, "filter", self.gen_group(self.schema.target(cls, rel), 1)]
        return self.gen_group(cls)

    def gen_sort(self, cls):
        rng = self.rng
        names = self.schema.columns(cls)
        masked = [n for n in names if self.schema.masked(cls, n)]
        pick = lambda: rng.choice(masked) if masked and rng.random() < 0.3 else \
            rng.choice(names + ["nope_field"] * (rng.random() < 0.05))
        if rng.random() < 0.5:
            return {"sort": [pick(), rng.choice(["asc", "desc"])]}
        if rng.random() < 0.5:
            return {"sort": [[pick(), rng.choice(["asc", "desc"])] for _ in range(2)]}
        return {"sort_attribute": pick(), "sort_order": rng.choice(["asc", "desc"])}

    def gen_query(self, cls):
        recs = list(self.universe.get(cls, {}).values())
        rng = self.rng
        if recs and rng.random() < 0.85:
            rec = rng.choice(recs)
            texts = [v for k, v in sorted(rec.items()) if isinstance(v, str) and
                     (self.schema.f(cls, k) or {}).get("data_type") in ("string", "text")]
            if texts:
                w = words_of(rng.choice(texts))
                if w:
                    i = rng.randrange(len(w))
                    q = w[i:i + rng.randint(1, 2)]
                    if rng.random() < 0.4:
                        q[-1] = q[-1][:max(1, len(q[-1]) - 2)]
                    return " ".join(q)
        return rng.choice(WORDS)

    def gen_group_by(self, cls):
        sch, rng = self.schema, self.rng
        groupable = [n for n, f in sorted(sch.fields[cls].items())
                     if f.get("groupable") and f["type"] == "column"]
        keys = []
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.4:
                rels = [n[:-3] for n in sch.columns(cls) if sch.is_ref_column(cls, n) and
                        n.endswith("_id")]
                rels += [n for n, f in sch.fields[cls].items()
                         if f["type"] == "relation" and not f["plural"] and sch.target(cls, n)]
                if rels:
                    rel = rng.choice(sorted(set(rels)))
                    t = sch.singular_rel(cls, rel)
                    if t:
                        tg = [n for n, f in sorted(sch.fields[t[1]].items())
                              if f.get("groupable") and f["type"] == "column"]
                        if tg:
                            keys.append("%s.%s" % (rel, rng.choice(tg)))
                            continue
            if groupable:
                keys.append(rng.choice(groupable))
        agg = {"id": "count"} if rng.random() < 0.85 else {}
        cols = sch.columns(cls)
        for _ in range(rng.randint(0, 2)):
            name = rng.choice(cols)
            f = sch.f(cls, name)
            fn = rng.choice(["sum", "avg", "min", "max", "count"]) if \
                f["data_type"] in NUMERIC else rng.choice(["min", "max", "count"])
            agg[name] = fn
        p = {"group": sorted(set(keys), key=keys.index)}
        if agg:
            p["aggregation"] = agg
        return p

    # ----- masked-field detection -------------------------------------------------------
    def masked_refs_in_filter(self, cls, flt, out):
        sch = self.schema
        if isinstance(flt, list) and len(flt) == 3 and isinstance(flt[0], str):
            if flt[1] == "filter":
                t = sch.target(cls, flt[0])
                if t:
                    self.masked_refs_in_filter(t, flt[2], out)
            elif sch.masked(cls, flt[0]):
                out.append("%s.%s" % (cls, flt[0]))
        elif isinstance(flt, dict):
            if "conditions" in flt:
                for c in flt.get("conditions") or []:
                    self.masked_refs_in_filter(cls, c, out)
            else:
                for k, v in flt.items():
                    if k == cls and isinstance(v, dict):
                        for n in v:
                            if sch.masked(cls, n):
                                out.append("%s.%s" % (cls, n))
                    elif sch.masked(cls, k):
                        out.append("%s.%s" % (cls, k))
        return out

    def masked_refs(self, cls, p):
        out = []
        if "filter" in p:
            self.masked_refs_in_filter(cls, p["filter"], out)
        sorts = []
        if "sort" in p:
            s = p["sort"]
            sorts = [x[0] for x in s] if s and isinstance(s[0], list) else [s[0]]
        if "sort_attribute" in p:
            sorts.append(p["sort_attribute"])
        out += ["sort by %s.%s" % (cls, n) for n in sorts if self.schema.masked(cls, n)]
        for g in p.get("group") or []:
            if "." in g:
                rel, _, f = g.partition(".")
                t = self.schema.singular_rel(cls, rel)
                if t and self.schema.masked(t[1], f):
                    out.append("group by %s" % g)
            elif self.schema.masked(cls, g):
                out.append("group by %s" % g)
        for n, fn in (p.get("aggregation") or {}).items():
            if self.schema.masked(cls, n) and fn != "count":
                out.append("%s of %s" % (fn, n))
        return out

    # ----- record oracle ----------------------------------------------------------------
    def check_record(self, actor, cls, rec, req, where, depth=0):
        sch = self.schema
        rid = rec.get("id")
        if not isinstance(rid, int):
            self.violation("record without an id", actor, req, "%s: %s" % (where, rec))
            return
        direct = self.fetch(actor, cls, rid)
        if direct is None:
            self.violation("record the user cannot fetch", actor, req,
                           "%s shows %s %d; GET v2/%s/%d as this user: not found"
                           % (where, cls, rid, cls, rid))
            return
        for k, v in rec.items():
            if k == "id":
                continue
            f = sch.f(cls, k)
            fk = None
            if f is None and (sch.f(cls, k + "_id") or {}).get("type") == "column":
                fk = k + "_id"                       # v1 renders `program_id` as `program`
            if f is None and fk is None:
                if k in SECRET_GUESSES or v is not None:
                    self.violation("member that is not a field of the class", actor, req,
                                   "%s: %s %d has member %r = %s" % (
                                       where, cls, rid, k, str(v)[:80]))
                continue
            name = fk or k
            f = sch.f(cls, name)
            t = sch.target(cls, name)
            if f["type"] == "relation" and not t:
                continue                              # relation to a class grantd lacks
            if not t:
                dv = direct.get(name)
                if v is not None and v != dv:
                    dv = self.fetch_full(actor, cls, rid).get(name)
                if v is not None and v != dv:
                    self.violation("value differs from the direct fetch", actor, req,
                                   "%s: %s %d %s = %r, direct fetch shows %r" % (
                                       where, cls, rid, k, v, dv))
                continue
            ids, recs = ids_in(v)
            # A singular alias (`created_by: [5]`) is the record's own `*_id` value, shown
            # by the direct fetch too (docs/security.md 1.4); has-many id arrays name
            # other records and must name only fetchable ones.
            if isinstance(v, list) and not recs and f.get("plural"):
                for i in ids:
                    if not self.visible(actor, t, i):
                        self.violation("id the user cannot fetch", actor, req,
                                       "%s: %s %d member %s names %s %d; GET v2/%s/%d as "
                                       "this user: not found" % (where, cls, rid, k, t, i, t, i))
            if f["type"] == "column":
                expect = {direct.get(name)} - {None}
            else:
                expect = set(ids_in(self.fetch_full(actor, cls, rid).get(name))[0])
            extra = sorted(set(ids) - expect)
            if extra and not (f["type"] == "relation" and f["plural"]):
                self.violation("value differs from the direct fetch", actor, req,
                               "%s: %s %d %s names %s, direct fetch shows %s" % (
                                   where, cls, rid, k, extra, sorted(expect)))
            elif extra:
                hidden = [i for i in extra if self.visible(actor, t, i)]
                if hidden:
                    self.violation("value differs from the direct fetch", actor, req,
                                   "%s: %s %d %s names %s, direct fetch shows %s" % (
                                       where, cls, rid, k, hidden, sorted(expect)))
            if depth == 0:
                for sub in recs:
                    self.check_record(actor, t, sub, req, "%s.%s" % (where, k), depth + 1)

    # ----- reads ------------------------------------------------------------------------
    def read_step(self, actor):
        rng, sch = self.rng, self.schema
        cls = self.pick_class()
        v = "v2" if rng.random() < 0.75 else "v1"
        route = rng.choice(["list", "list", "post_list", "fetch", "fetch", "group"])
        p = {}
        if v == "v2" and rng.random() < 0.6:
            p["cols"] = self.gen_cols(cls)
        elif v == "v2" and rng.random() < 0.1:
            p["all_core"] = 1
        if v == "v1" and rng.random() < 0.6:
            p["style"] = rng.choice(["compact", "detail", "full"])
        if sch.rel_names(cls) and rng.random() < 0.5:
            p["relation"] = self.gen_relation(cls, v)
        if route == "fetch":
            ids = self.all_ids.get(cls) or [1]
            rid = rng.choice(ids) if rng.random() < 0.95 else ids[-1] + 1000
            path = "%s/%s/%d" % (v, cls, rid)
            r, b, req = self.send(actor, "GET", path, p)
            self.tally("fetch")
            e = err_of(b)
            if r.status_code == 200 and e is None and isinstance(b, dict) and cls in b:
                self.check_record(actor, cls, b[cls], req, "fetch")
            return
        if rng.random() < 0.6:
            p["filter"] = self.gen_filter(cls)
        if rng.random() < 0.3:
            p.update(self.gen_sort(cls))
        if rng.random() < 0.2:
            p["query"] = self.gen_query(cls)
        if rng.random() < 0.15:
            p["deleted"] = rng.choice(["include", "only"])
        if route == "group":
            p.update(self.gen_group_by(cls))
            p.pop("cols", None)
            p.pop("relation", None)
        p["per_page"] = rng.choice([1, 3, 10, 25, 25, 100])
        if rng.random() < 0.3:
            p["page"] = rng.randint(1, 3)
        if rng.random() < 0.1:
            p["current_page"] = p.pop("page", 1)
        if rng.random() < 0.05:
            p["all"] = 1
        if route == "post_list":
            r, b, req = self.send(actor, "POST", "%s/%s/list" % (v, cls), p,
                                  body=rng.choice(["form", "json", "rails"]))
        else:
            r, b, req = self.send(actor, "GET", "%s/%s" % (v, cls), p,
                                  body="rails" if rng.random() < 0.15 else "query")
        self.tally(route)
        e = err_of(b)
        ok = r.status_code == 200 and e is None and isinstance(b, dict) and "records" in b
        if ok and actor.role not in SEES_MASKED:
            m = self.masked_refs(cls, p)
            if m:
                self.violation("masked field usable (must be code 103)", actor, req,
                               "%s sees %s masked, yet the request was answered "
                               "(total_entries %s)" % (actor.role, ", ".join(m),
                                                        b.get("total_entries")))
                return
        if not ok:
            return
        recs = b["records"].get(cls)
        if not isinstance(recs, list):
            self.violation("list without records of its class", actor, req, r.text[:200])
            return
        if "group" in p or "aggregation" in p:
            self.check_groups(actor, cls, p, recs, req)
            return
        for i, rec in enumerate(recs):
            self.check_record(actor, cls, rec, req, "records[%d]" % i)
        if "query" in p:
            self.tally("query_checked")
            self.check_query(actor, cls, p["query"], recs, req)
        if isinstance(p.get("filter"), list) and p["filter"][1:2] == ["filter"] and \
                "query" not in p and "deleted" not in p and rng.random() < 0.5:
            self.check_cross(actor, cls, p["filter"], req)

    def tally(self, k):
        self.stats[k] = self.stats.get(k, 0) + 1

    def check_query(self, actor, cls, q, recs, req):
        """Full text matches only on text the user sees (words whole, the last a prefix)."""
        want = words_of(q)
        if not want:
            return
        ft = [n for n, f in self.schema.fields[cls].items() if f.get("full_text")]
        for rec in recs:
            d = self.fetch(actor, cls, rec.get("id"))
            if d is None:
                continue
            seen = set()
            for n in ft:
                if isinstance(d.get(n), str):
                    seen.update(words_of(d[n]))
            ok = all(w in seen for w in want[:-1]) and \
                any(s.startswith(want[-1]) for s in seen)
            if not ok:
                self.violation("full-text match on text the user cannot see", actor, req,
                               "query %r matched %s %s, whose full-text fields as this user "
                               "sees them do not contain it" % (q, cls, rec.get("id")))

    def check_cross(self, actor, cls, flt, req):
        """[rel, "filter", G] keeps only the user's records that are related (as the admin
        sees the relation) to a record of the user's own list of the related class filtered
        by G."""
        rel, _, g = flt
        t = self.schema.target(cls, rel)
        if not t:
            return
        self.tally("cross_checked")
        got, _ = self.list_all(actor, cls, {"filter": flt, "cols": ["id"]})
        inner, e2 = self.list_all(actor, t, {"filter": g, "cols": ["id"]})
        if got is None:
            return
        if inner is None:
            if e2 and e2.get("code") in (100, 103) and got:
                self.violation("cross-class filter accepts what the related list refuses",
                               actor, req, "GET v2/%s?filter=%s as this user: %s" % (
                                   t, json.dumps(g), e2))
            return
        mine, _ = self.list_all(actor, cls, {"cols": ["id"]})
        links, _ = self.list_all(self.root, cls, {"cols": [rel]})
        if mine is None or links is None:
            return
        inner_ids = {r["id"] for r in inner}
        related = {r["id"] for r in links if set(ids_in(r.get(rel))[0]) & inner_ids}
        expect = {r["id"] for r in mine} & related
        extra = sorted({r["id"] for r in got} - expect)
        if extra:
            self.violation("cross-class filter matches through records the user cannot list",
                           actor, req, "%s ids %s match, but none of their %s is in the "
                           "user's own %s list filtered by the inner group" % (
                               cls, extra[:10], rel, t))

    def check_groups(self, actor, cls, p, rows, req):
        sch = self.schema
        keys = p.get("group") or []
        resolved = {}
        for k in keys:
            if "." in k:
                rel, _, f = k.partition(".")
                sr = sch.singular_rel(cls, rel)
                if not sr or not sr[0]:
                    return
                resolved[k] = (sr[0], sr[1], f, sch.target(sr[1], f))
            else:
                resolved[k] = (None, None, k, sch.target(cls, k))
        for row in rows:
            for k in keys:
                val = row.get(k)
                t = resolved[k][3]
                # a group by the class's own `*_id` column shows that column's values, as
                # the user's direct fetches do (docs/security.md 1.4): not checked here
                if t and resolved[k][0] is not None and isinstance(val, int) and \
                        not self.visible(actor, t, val):
                    self.violation("group value the user cannot fetch", actor, req,
                                   "group %s = %s names %s %s; GET v2/%s/%s as this user: "
                                   "not found" % (k, val, t, val, t, val))
        # Recompute the groups from the user's own list with the same filter: a related
        # record the user cannot fetch (or a deleted one) contributes null.
        base = {k: p[k] for k in ("filter", "query", "deleted") if k in p}
        agg = p.get("aggregation") or {}
        need = {fk or f for fk, _, f, _ in resolved.values()} | set(agg)
        mine, _ = self.list_all(actor, cls, dict(base, cols=sorted(need)), limit=1500)
        if mine is None:
            return
        pp = {k: p[k] for k in ("filter", "query", "deleted", "group", "aggregation")
              if k in p}
        allrows, _ = self.list_all(actor, cls, pp)
        if allrows is None:
            return
        self.tally("group_recomputed")
        expect, seen = {}, {k: set() for k in keys}
        for rec in mine:
            gk = []
            for k in keys:
                fk, t, f, _ = resolved[k]
                if fk is None:
                    val = rec.get(f)
                else:
                    rv = rec.get(fk)
                    rr = self.fetch(actor, t, rv) if isinstance(rv, int) else None
                    if rr and rr.get("deleted_at"):
                        rr = None                 # deleted records leave aggregations
                    val = rr.get(f) if rr else None
                    if rr and val is None and f not in rr:
                        val = self.fetch_full(actor, t, rv).get(f)
                gk.append(val)
                seen[k].add(jkey(val))
            expect.setdefault(jkey(gk), []).append(rec)
        got = {jkey([row.get(k) for k in keys]): row for row in allrows}
        for gk in sorted(set(got) - set(expect)):
            row = got[gk]
            why = [k for k in keys if resolved[k][0] and jkey(row.get(k)) not in seen[k]]
            if why:
                self.violation("group value taken from a related record the user cannot "
                               "fetch", actor, req, "group %s: %s; no record of the user's own "
                               "list reaches that value through a related record the user can "
                               "fetch (row %s)" % (", ".join(why), gk, row))
            else:
                self.violation("group-by differs from the user's own list", actor, req,
                               "group %s is not a group of the user's own records (%s)" % (
                                   gk, row))
        for gk in sorted(set(got) & set(expect)):
            row, recs = got[gk], expect[gk]
            for name, fn in sorted(agg.items()):
                out = row.get("%s_%s" % (name, fn))
                vals = [r.get(name) for r in recs if r.get(name) is not None]
                bad = None
                if fn == "count" and out != len(vals):
                    bad = len(vals)
                elif fn == "sum" and vals and all(isinstance(x, (int, Decimal)) for x in vals):
                    if out is None or Decimal(out) != sum(Decimal(x) for x in vals):
                        bad = sum(Decimal(x) for x in vals)
                elif fn in ("min", "max") and out is not None and out not in vals:
                    bad = "one of the group's values"
                if bad is not None:
                    self.violation("group-by differs from the user's own list", actor, req,
                                   "group %s: %s_%s = %s, the user's own records give %s"
                                   % (gk, name, fn, out, bad))

    # ----- writes -----------------------------------------------------------------------
    def user_ids_of(self, actor, cls):
        recs, _ = self.list_all(actor, cls, {"cols": ["id"]})
        return [r["id"] for r in recs or []]

    def ref_value(self, actor, t):
        if self.rng.random() < 0.35:
            mine = self.user_ids_of(actor, t)
            if mine:
                return self.rng.choice(mine)
        ids = self.all_ids.get(t) or [1]
        return self.rng.choice(ids)

    def mutate(self, actor, cls, data, n):
        sch, rng = self.schema, self.rng
        denied = self.denied.get((actor.role, cls), set())
        writable = [k for k, f in sorted(sch.fields[cls].items())
                    if ("update" in f["permission"] or "create" in f["permission"])
                    and f["type"] == "column" and (k not in denied or rng.random() < 0.1)]
        refs = [k for k in writable if sch.target(cls, k)]
        owning = [k for k in refs if k in SCOPE_REFS]
        for _ in range(n):
            r = rng.random()
            if refs and r < 0.55:
                k = rng.choice(owning if owning and rng.random() < 0.5 else refs)
                val = self.ref_value(actor, sch.target(cls, k))
                if k.endswith("_id") and rng.random() < 0.15:
                    data[k[:-3]] = {"id": val}
                else:
                    data[k] = val
            elif cls == "user" and r < 0.75:
                k = rng.choice(["role", "role", "state", "active"])
                data[k] = {"role": rng.choice(sorted(RANK)),
                           "state": rng.choice(["active", "passive"]),
                           "active": rng.choice([True, False])}[k]
            elif writable:
                k = rng.choice(writable)
                f = sch.f(cls, k)
                if k == "state" and sch.classes[cls].get("workflow"):
                    data[k] = rng.choice(sch.classes[cls]["workflow"]["states"])
                elif not sch.target(cls, k):
                    v = self.made_up(f)
                    if isinstance(v, str) and f.get("max_length"):
                        v = v[:f["max_length"]]
                    data[k] = v
        return data

    def template(self, actor, cls):
        """A create body copied from a record the writer sees (else any), mutated."""
        sch, rng = self.schema, self.rng
        mine = self.user_ids_of(actor, cls)
        pool = mine or self.all_ids.get(cls) or []
        data = {}
        if pool:
            src = self.universe[cls].get(rng.choice(pool)) or {}
            denied = self.denied.get((actor.role, cls), set())
            for k, v in sorted(src.items()):
                f = sch.f(cls, k)
                if f and "create" in f["permission"] and f["type"] == "column" and \
                        v is not None and k not in denied and \
                        k not in ("state", "created_by_id", "updated_by_id"):
                    data[k] = str(v) if isinstance(v, Decimal) else v
        for k, f in sorted(sch.fields[cls].items()):
            if f.get("required") and k not in data:
                t = sch.target(cls, k)
                data[k] = self.ref_value(actor, t) if t else self.made_up(f)
        n = self.counter = getattr(self, "counter", 0) + 1
        if cls == "user":
            data.update(login="pp_%d_%d" % (self.seed, n), email="pp%d@example.org" % n,
                        first_name="Prop", last_name="User %d" % n)
            data.pop("role", None)
        for k in ("base_request_id", "login", "email"):
            if k in data and isinstance(data[k], str) and cls != "user":
                data[k] = "%s-pp%d" % (data[k][:200], n)
        return self.mutate(actor, cls, data, rng.randint(0, 3))

    def write_step(self, actor):
        rng, sch = self.rng, self.schema
        hot = ["grant_request", "request_transaction", "organization", "user", "user",
               "user_organization", "user_organization", "bank_account", "request_report",
               "budget_request", "request_amendment", "note", "program"]
        cls = rng.choice([c for c in hot if c in sch.fields] if rng.random() < 0.85
                         else sch.names)
        op = rng.choice(["create", "update", "update", "delete"])
        ids = self.all_ids.get(cls) or []
        if op != "create" and not ids:
            op = "create"
        rid = None
        if op != "create":
            cand = ids
            if cls == "user":
                cand = [i for i in ids if i not in self.protected_users]
                if rng.random() < 0.5:
                    cand = self.victims
            mine = [i for i in self.user_ids_of(actor, cls) if i in cand]
            rid = rng.choice(mine if mine and rng.random() < 0.6 else cand)
        if op == "create":
            data = self.template(actor, cls)
        elif op == "update":
            data = self.mutate(actor, cls, {}, rng.randint(1, 3))
        else:
            data = None
        # What the writer and the admin see before.
        before_admin = self.fetch(self.root, cls, rid, cached=False) if rid else None
        vis_before = self.visible(actor, cls, rid, cached=False) if rid else None
        refs = {}
        for k, v in sorted((data or {}).items()):
            name = k if sch.is_ref_column(cls, k) else k + "_id"
            val = v.get("id") if isinstance(v, dict) else v
            if sch.is_ref_column(cls, name) and isinstance(val, int) and \
                    not isinstance(val, bool):
                t = sch.target(cls, name)
                refs[name] = (val, t, self.visible(actor, t, val, cached=False))
        counts = None
        if op == "create":
            counts = {c: self.admin_get("v2/" + c, deleted="include", per_page=1,
                                        cols=["id"])["total_entries"]
                      for c in (cls, "workflow_event")}
        # Send it.
        headers = None
        if op == "create":
            method, path = "POST", "v2/" + cls
        elif op == "update":
            method, path = rng.choice(["PUT", "PATCH"]), "v2/%s/%d" % (cls, rid)
            if rng.random() < 0.1:
                method, headers = "POST", {"X-HTTP-Method-Override": "PUT"}
        else:
            method, path = "DELETE", "v2/%s/%d" % (cls, rid)
        params = {"data": data} if data is not None else {}
        r, b, req = self.send(actor, method, path, params,
                              body="form" if data is not None else "query", headers=headers)
        self.tally("write_" + op)
        e = err_of(b)
        ok = r.status_code == 200 and e is None and b is not None
        if not ok:
            msg = "%s %s %s: %s" % (op, cls, r.status_code, (e or {}).get("message", "")[:90])
            m = re.search(r"may not set (\w+)|only an admin may set (\w+)", msg)
            if m:
                self.denied.setdefault((actor.role, cls), set()).add(m.group(1) or m.group(2))
            self.write_errors[msg] = self.write_errors.get(msg, 0) + 1
            # Refused: nothing changed.
            if rid:
                after = self.fetch(self.root, cls, rid, cached=False)
                if after != before_admin:
                    diff = sorted(k for k in set(after or {}) | set(before_admin or {})
                                  if (after or {}).get(k) != (before_admin or {}).get(k))
                    self.violation("refused write changed the record", actor, req,
                                   "answer %s %s; %s %d changed in %s" % (
                                       r.status_code, r.text[:150], cls, rid, diff))
            else:
                now = {c: self.admin_get("v2/" + c, deleted="include", per_page=1,
                                         cols=["id"])["total_entries"] for c in counts}
                if now != counts:
                    self.violation("refused write changed the record", actor, req,
                                   "answer %s %s; counts before %s, after %s" % (
                                       r.status_code, r.text[:150], counts, now))
            return
        self.tally("write_ok_" + op)
        if actor.role not in sch.writers(cls):
            self.violation("write by a role that may not write the class", actor, req,
                           "%s may write %s: %s; this %s was accepted" % (
                               cls, cls, sch.classes[cls].get("writers"), op))
        if op == "create":
            rec = b.get(cls) if isinstance(b, dict) else None
            rid = rec.get("id") if isinstance(rec, dict) else None
        if rid and op != "create" and not vis_before:
            self.violation("write to a record the user cannot fetch", actor, req,
                           "%s %s %d was accepted; before it GET v2/%s/%d as this user "
                           "answered not found" % (op, cls, rid, cls, rid))
        after = self.fetch(self.root, cls, rid, cached=False) if rid else None
        if rid and op != "delete" and not self.visible(actor, cls, rid, cached=False):
            self.violation("written record the user cannot fetch", actor, req,
                           "%s of %s %s accepted; GET v2/%s/%s as this user: not found" % (
                               op, cls, rid, cls, rid))
        for name, (val, t, vis) in sorted(refs.items()):
            if after is None or after.get(name) != val:
                continue                          # not set by this write (ignored field)
            changed = op == "create" or (before_admin or {}).get(name) != val
            if not vis and changed:
                self.violation("write set a reference outside the user's scope", actor, req,
                               "%s %s.%s = %d: before the write GET v2/%s/%d as this user "
                               "answered not found" % (op, cls, name, val, t, val))
            elif changed and not self.visible(actor, t, val, cached=False):
                self.violation("write set a reference outside the user's scope", actor, req,
                               "%s %s.%s = %d: after the write GET v2/%s/%d as this user "
                               "answers not found" % (op, cls, name, val, t, val))
            if name in ("created_by_id", "updated_by_id") and actor.role != "admin" and \
                    val != actor.uid and changed:
                self.violation("only an admin may set created_by/updated_by", actor, req,
                               "%s.%s = %d stored" % (cls, name, val))
        self.check_user_rules(actor, cls, op, rid, data, before_admin, after, req)
        if actor.role == "grantee" and op == "update" and before_admin and after:
            changed = [k for k in sorted(after) if after.get(k) != before_admin.get(k) and
                       (k == "state" or k.startswith("amount_") or
                        k in ("created_by_id",))]
            if changed:
                self.violation("grantee changed state, amount_* or *_by_id", actor, req,
                               "%s %d: %s" % (cls, rid, ", ".join(
                                   "%s %r -> %r" % (k, before_admin.get(k), after.get(k))
                                   for k in changed)))

    def role_of(self, uid):
        u = self.fetch(self.root, "user", uid, cached=False) if isinstance(uid, int) else None
        return (u or {}).get("role")

    def check_user_rules(self, actor, cls, op, rid, data, before, after, req):
        mine = RANK[actor.role]
        if cls == "user":
            old = (before or {}).get("role")
            if op != "create" and old in RANK and RANK[old] > mine:
                self.violation("lower role changed a higher role's user", actor, req,
                               "%s %s user %d whose role is %s" % (op, actor.role, rid, old))
            new = (after or {}).get("role")
            if data and "role" in data and new in RANK:
                if RANK[new] > mine:
                    self.violation("gave a role above the writer's own", actor, req,
                                   "user %d now has role %s" % (rid, new))
                elif actor.role == "employee" and new != (old or "grantee"):
                    self.violation("employee set a user's role (contract section 8)", actor,
                                   req, "user %d role %s -> %s" % (rid, old, new))
        if cls == "user_organization" and after:
            uid = after.get("user_id")
            role = self.role_of(uid)
            if role in RANK and RANK[role] > mine:
                linked = op == "create" or any(k in (data or {}) for k in (
                    "user_id", "user", "organization_id", "organization"))
                self.violation("linked a user of a higher role to an organization" if linked
                               else "changed the organization link of a higher role's user",
                               actor, req, "%s of user_organization %d, which links user %s "
                               "(role %s) to organization %s" % (
                                   op, rid, uid, role, after.get("organization_id")))

    # ----- the loop ---------------------------------------------------------------------
    def run(self, budget):
        rng = self.rng
        end = time.time() + budget
        readers = self.actors
        writers = [a for a in self.actors if a.role in ("grantee", "employee")] * 3 + \
            [a for a in self.actors if a.role in ("super_user", "developer")]
        try:
            self.loop(end, readers, writers, rng)
        except Abort:
            pass
        return self.cycles

    def loop(self, end, readers, writers, rng):
        self.cycles = 0
        while time.time() < end:
            self.cycles += 1
            for _ in range(40):
                if time.time() >= end:
                    break
                self.read_step(rng.choice(readers))
            for _ in range(rng.randint(3, 8)):
                if time.time() >= end:
                    break
                self.clear_caches()
                self.write_step(rng.choice(writers))
            self.clear_caches()
            self.refresh_universe()

    def report(self):
        lines = ["policy property test: seed %d (GRANTD_PROPERTY_SEED=%d to replay), "
                 "%d requests, %d violations" % (self.seed, self.seed, self.requests,
                                                  sum(self.kinds.values())),
                 "by kind:"]
        for k, n in sorted(self.kinds.items(), key=lambda kv: -kv[1]):
            lines.append("  %5d  %s" % (n, k))
        lines.append("first %d:" % min(MAX_REPORT, len(self.violations)))
        shown = []
        per_kind = {}
        order = sorted(self.violations, key=lambda v: v["kind"].startswith("duplicate key"))
        for v in order:                 # up to three per kind first, then the rest
            if per_kind.get(v["kind"], 0) < 3:
                shown.append(v)
                per_kind[v["kind"]] = per_kind.get(v["kind"], 0) + 1
        shown += [v for v in order if v not in shown]
        for n, v in enumerate(shown[:MAX_REPORT], 1):
            lines += ["%2d. [%s] user %s" % (n, v["kind"], v["actor"]),
                      "    request: %s" % v["request"][:1500],
                      "    %s" % v["detail"][:1500],
                      "    replay: %s" % v["replay"][:2000]]
        return "\n".join(lines)


def test_policy_property(make_server):
    srv = make_server("policy", grants=60, random_seed=7)
    run = Run(srv, SEED)
    run.setup()
    t0 = time.time()
    cycles = run.run(BUDGET)
    summary = run.report()
    print("seed %d: %d cycles in %.1f s, %d requests, %s" % (
        run.seed, cycles, time.time() - t0, run.requests, json.dumps(run.stats, sort_keys=True)))
    dump = os.environ.get("GRANTD_PROPERTY_REPORT")
    if dump:
        with open(dump, "w") as f:
            json.dump({"seed": run.seed, "kinds": run.kinds, "stats": run.stats,
                       "violations": run.violations, "write_errors": run.write_errors},
                      f, indent=1, default=str)
    if run.violations:
        pytest.fail(summary, pytrace=False)
