"""Contract §4 `filter`, every operator (issue 3): one generic test runs each case of
cases/filters.json on sites built for it through the API. Each site has its own settings
(time zone, week start, fiscal-year start month) and the same fixed today (the GRANTD_TODAY
test hook), so relative dates, week/month/quarter/fiscal boundaries, the leap day and the
time-zone edges have exact expected records. Cases name records by fixture key; a case
either lists the keys it must answer (all pages, nothing else) or the pieces its code 103
message must name."""

import json
import os
import time

import pytest

import grantd_harness as H
from grantd_harness import PASSWORD, assert_error, jparse, run_cli

pytestmark = [pytest.mark.params, pytest.mark.slow]

CASES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", "filters.json")
with open(CASES_FILE, encoding="utf-8") as _f:
    DOC = json.load(_f)

# Contract §4, "Operators, all of them".
CONTRACT_OPERATORS = """eq not-eq lt lte gt gte null not-null range range-year-cal
range-year-fiscal yesterday today tomorrow last-n-days next-n-days days-n-ago last-week
this-week next-week last-n-weeks next-n-weeks weeks-n-ago last-month this-month next-month
last-n-months next-n-months months-n-ago last-quarter this-quarter next-quarter
last-n-quarters next-n-quarters quarters-n-ago last-year this-year next-year last-n-years
next-n-years years-n-ago last-fiscal-quarter this-fiscal-quarter next-fiscal-quarter
last-n-fiscal-quarters next-n-fiscal-quarters fiscal-n-quarters-ago last-fiscal this-fiscal
next-fiscal-year last-n-fiscal-years next-n-fiscal-years fiscal-n-years-ago contains
starts_with not-starts_with like not-like filter""".split()


def subst(v, ids):
    """'@KEY' -> the id of fixture record KEY, anywhere inside v."""
    if isinstance(v, str) and v.startswith("@") and v[1:] in ids:
        return ids[v[1:]]
    if isinstance(v, list):
        return [subst(x, ids) for x in v]
    if isinstance(v, dict):
        return {k: subst(x, ids) for k, x in v.items()}
    return v


class Site:
    """A server with the site's settings, today fixed, and the fixture written by the API."""

    def __init__(self, name, config):
        self.name = name
        self.srv = H.Server("filters-" + name, seed=False, config=config)
        old = os.environ.get("GRANTD_TODAY")
        os.environ["GRANTD_TODAY"] = DOC["today"]
        try:
            self.srv.start()
        finally:
            if old is None:
                del os.environ["GRANTD_TODAY"]
            else:
                os.environ["GRANTD_TODAY"] = old
        self.ids = {}
        self.keys = {}
        for r in DOC["fixture"]:
            if r.get("delete_only"):
                self.srv.delete(r["class"], self.ids[r["key"]])
                continue
            rec = self.srv.create(r["class"], subst(r["data"], self.ids), cols=["id"])
            self.ids[r["key"]] = rec["id"]
            self.keys[(r["class"], rec["id"])] = r["key"]
            if r.get("delete"):
                self.srv.delete(r["class"], rec["id"])
        for client, org_key in DOC.get("grantees", {}).items():
            login = "t_" + client
            run_cli(["user", "add", login, "--role", "grantee", "--organization",
                     str(self.ids[org_key]), "--db", self.srv.db_path, "--password-stdin"],
                    stdin=PASSWORD + "\n")
            self.srv.add_client(client, login)

    def query(self, cls, flt, method="POST", role="admin"):
        params = {"filter": json.dumps(flt), "per_page": 500, "cols": '["id"]'}
        path = "v2/%s" % cls
        if method == "GET":
            return self.srv.api("GET", path, role=role, params=params)
        return self.srv.api("POST", path + "/list", role=role, data=params)


@pytest.fixture(scope="module")
def sites():
    made = {}

    def get(name):
        if name not in made:
            made[name] = Site(name, DOC["sites"][name])
        return made[name]

    yield get
    for s in made.values():
        s.srv.stop()


PARAMS = [(site, c) for c in DOC["cases"] for site in c.get("sites", DOC["sites"])]


@pytest.mark.parametrize("site,case", PARAMS, ids=["%s: %s" % (s, c["name"]) for s, c in PARAMS])
def test_filter_case(sites, site, case):
    s = sites(site)
    flt = subst(case["filter"], s.ids)
    r = s.query(case["class"], flt, case.get("method", "POST"), case.get("role", "admin"))
    if "error" in case:
        err = assert_error(r, 103)
        for piece in case["error"]:
            assert piece in err["message"], (piece, err["message"])
        for leak in ("SELECT", "grantd_fold", "\"t\"", "t_1"):
            assert leak not in err["message"], err["message"]
        return
    assert r.status_code == 200, r.text[:500]
    b = jparse(r)
    assert "error" not in b, (flt, b)
    got = [x["id"] for x in b["records"][case["class"]]]
    assert b["total_entries"] == len(got)
    want = case["expect"]
    if isinstance(want, dict):
        want = want[site]
    got_keys = sorted(s.keys.get((case["class"], i), "?%d" % i) for i in got)
    assert got_keys == sorted(want), "filter %s on %s" % (json.dumps(flt), site)


def _walk(flt, ops, groups):
    if isinstance(flt, dict):
        if "group_type" in flt:
            groups.add(flt["group_type"])
            for c in flt.get("conditions", []):
                _walk(c, ops, groups)
    elif isinstance(flt, list) and len(flt) == 3 and isinstance(flt[1], str):
        ops.add(flt[1])
        if flt[1] == "filter":
            _walk(flt[2], ops, groups)


def test_cases_cover_every_operator_and_group_type():
    ops, groups, errs = set(), set(), 0
    for c in DOC["cases"]:
        if "error" in c:
            errs += 1
            continue
        _walk(c["filter"], ops, groups)
    missing = [o for o in CONTRACT_OPERATORS if o not in ops]
    assert not missing, "operators without a case: %s" % missing
    assert groups >= {"and", "or", "not-and", "not-or"}, groups
    assert errs >= 10


def test_nesting_limit_is_an_error(sites):
    """Too deep is a 103 (the parameter parser bounds JSON depth before the compiler's own
    limit of 32 groups applies); nesting through cross-class filters counts the same."""
    s = sites("utc")
    flt = ["fx_date_1", "today", "-"]
    for _ in range(40):
        flt = {"group_type": "and", "conditions": [flt]}
    err = assert_error(s.query("grant_request", flt), 103)
    assert "deeper" in err["message"], err["message"]
    flt = ["name", "eq", "Global Health"]
    flt = {"group_type": "and", "conditions": [["parent_id", "filter", flt]]}
    flt = {"group_type": "or", "conditions": [["program_id", "filter", flt]]}
    for _ in range(3):
        flt = {"group_type": "and", "conditions": [flt]}
    r = s.query("grant_request", flt)
    assert r.status_code == 200 and "error" not in jparse(r), r.text[:300]
    keys = sorted(s.keys[("grant_request", x["id"])] for x in jparse(r)["records"]["grant_request"])
    assert keys == ["G%02d" % n for n in range(6, 11)]


def test_filter_as_json_body(sites):
    s = sites("la")
    r = s.srv.api("POST", "v2/organization/list",
                  json={"filter": {"group_type": "and", "conditions": [
                      ["name", "contains", "STRASSE"]]}, "cols": ["id"], "per_page": 500})
    assert r.status_code == 200, r.text[:300]
    got = sorted(s.keys[("organization", x["id"])] for x in jparse(r)["records"]["organization"])
    assert got == ["O1", "O2"]



# ---- the per-thread cache of compiled filters (src/filtercache.c) -----------------------

def ids_of(resp):
    b = jparse(resp)
    assert resp.status_code == 200 and "error" not in b, resp.text[:500]
    return sorted(r["id"] for r in next(iter(b["records"].values())))


def test_cached_filters_keep_the_grantee_scope(sites):
    """A compiled filter is cached only for callers without a scope: a grantee sending the
    text an admin's request cached still gets related records limited to its own."""
    s = sites("utc")
    flt = ["created_by", "filter", ["login", "eq", "t_admin"]]
    first = ids_of(s.query("grant_request", flt))
    assert first and ids_of(s.query("grant_request", flt)) == first
    assert ids_of(s.query("grant_request", flt, method="GET")) == first
    assert ids_of(s.query("grant_request", flt, role="grantee_o1")) == []
    assert ids_of(s.query("grant_request", flt)) == first


def test_cached_filter_follows_a_changed_time_zone(make_server):
    """The site's time zone is part of the key: after `grantd config set time_zone` (read
    by the server within 5 s) the same filter text selects by the new zone's days."""
    s = make_server("fcache-zone", grants=5)
    t = s.grant_template()
    base = {"program_organization_id": t["program_organization_id"], "program_id": t["program_id"]}
    late = s.create("grant_request", dict(base, locked_until="2030-03-10T05:00:00Z"))["id"]
    flt = {"filter": json.dumps(["locked_until", "range", "2030-03-10 - 2030-03-10"]),
           "cols": '["id"]', "per_page": 50}
    for _ in range(3):
        assert ids_of(s.api("POST", "v2/grant_request/list", data=flt)) == [late]
    run_cli(["config", "--db", s.db_path, "set", "time_zone", "America/Los_Angeles"])
    deadline = time.time() + 15
    while time.time() < deadline:  # 2030-03-09 21:00 in Los Angeles
        if ids_of(s.api("POST", "v2/grant_request/list", data=flt)) == []:
            break
        time.sleep(0.5)
    assert ids_of(s.api("POST", "v2/grant_request/list", data=flt)) == []
    flt9 = dict(flt, filter=json.dumps(["locked_until", "range", "2030-03-09 - 2030-03-09"]))
    assert ids_of(s.api("POST", "v2/grant_request/list", data=flt9)) == [late]


def test_cached_filter_follows_site_defined_fields(make_server):
    """The generation of the site-defined fields is part of the key: a filter on a field
    that was deleted is refused (103) even after it was served from the cache."""
    s = make_server("fcache-dyn", grants=5)
    ma = s.create("model_attribute", {"model_type": "GrantRequest", "name": "panel",
                                      "attribute_type": "string"})
    gid = s.create_grant(data={"panel": "north"})["id"]
    flt = {"filter": json.dumps(["panel", "eq", "north"]), "cols": '["id"]'}
    for _ in range(3):
        assert ids_of(s.api("GET", "v2/grant_request", params=flt)) == [gid]
    s.delete("model_attribute", ma["id"])
    assert_error(s.api("GET", "v2/grant_request", params=flt), 103)
    s.create("model_attribute", {"model_type": "GrantRequest", "name": "panel",
                                 "attribute_type": "string"})  # its column kept the values
    assert ids_of(s.api("GET", "v2/grant_request", params=flt)) == [gid]
