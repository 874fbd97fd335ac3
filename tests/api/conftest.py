"""pytest fixtures for grantd's black-box API tests.

`srv`: one seeded site (200 grants, random seed 7) served for the whole session, with a user
and an OAuth client per role (admin, super_user, developer, employee, grantee), a read-only
admin client (`admin_ro`) and a second admin client (`admin2`).
`make_server`: a factory of sites of their own (own database, own settings), stopped at the
end of the test. When a test fails, the log of every site started so far (since the test
began) is attached to the report."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import grantd_harness as H


def pytest_configure(config):
    config.addinivalue_line("markers", "transport: contract section 1")
    config.addinivalue_line("markers", "oauth: contract section 2")
    config.addinivalue_line("markers", "routes: contract section 3")
    config.addinivalue_line("markers", "params: contract section 4")
    config.addinivalue_line("markers", "responses: contract section 5")
    config.addinivalue_line("markers", "writes: contract section 6")
    config.addinivalue_line("markers", "errors: contract section 7")
    config.addinivalue_line("markers", "roles: contract section 8")
    config.addinivalue_line("markers", "cli: contract section 10")
    config.addinivalue_line("markers", "durability: contract section 6, durable writes")
    config.addinivalue_line("markers", "slow: starts servers of its own")
    config.addinivalue_line("markers", "sqlite_only: about SQLite's own internals (full-text "
                            "tables, query plans, an old SQLite schema); skipped on other engines")
    config.addinivalue_line("markers", "postgresql_only: about the PostgreSQL engine's sessions "
                            "(a server that drops them); skipped on SQLite")


def pytest_sessionstart(session):
    """Test a private copy of the binary: a rebuild during the run must not swap it."""
    src = H.GRANTD_BIN
    if not (os.path.isfile(src) and os.access(src, os.X_OK)):
        return
    d = tempfile.mkdtemp(prefix="grantd-bin-")
    dst = os.path.join(d, "grantd")
    for _ in range(30):
        try:
            shutil.copy2(src, dst)
            if subprocess.run([dst, "--help"], capture_output=True, timeout=10).returncode == 0:
                H.GRANTD_BIN = dst
                return
        except (OSError, subprocess.SubprocessError):
            pass
        time.sleep(1)


def pytest_runtest_setup(item):
    if item.get_closest_marker("sqlite_only") and H.ENGINE != "sqlite":
        pytest.skip("about SQLite internals; the sites under test run on %s" % H.ENGINE)
    if item.get_closest_marker("postgresql_only") and H.ENGINE != "postgresql":
        pytest.skip("about PostgreSQL sessions; the sites under test run on %s" % H.ENGINE)
    item._grantd_marks = {id(s): s.log_len() for s in H.ALL_SERVERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    marks = getattr(item, "_grantd_marks", {})
    for s in H.ALL_SERVERS:
        text = s.log_text(marks.get(id(s), 0))
        if text:
            if len(text) > 30000:
                text = "...\n" + text[-30000:]
            rep.sections.append(("grantd log: %s (%s)" % (s.name, s.dir), text))


def _check_binary():
    if not (os.path.isfile(H.GRANTD_BIN) and os.access(H.GRANTD_BIN, os.X_OK)):
        pytest.fail("grantd binary not found at %s (set GRANTD_BIN or run make)" % H.GRANTD_BIN,
                    pytrace=False)


@pytest.fixture(scope="session")
def srv():
    _check_binary()
    s = H.Server("session")
    s.start()
    yield s
    s.stop()


@pytest.fixture
def make_server():
    """make_server(name, grants=20, config={...}, serve_args=[...], start=True)."""
    _check_binary()
    made = []

    def factory(name, grants=20, random_seed=7, config=None, serve_args=(), start=True,
                seed=True, users=True, wrapper=None):
        s = H.Server(name, grants=grants, random_seed=random_seed, config=config,
                     serve_args=serve_args, seed=seed, users=users)
        made.append(s)
        if start:
            s.start(wrapper=wrapper)
        return s

    yield factory
    for s in made:
        s.stop()


@pytest.fixture
def grant(srv):
    """A fresh grant request created through the API (admin), as returned by create."""
    return srv.create_grant()
