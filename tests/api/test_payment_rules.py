"""Payment rules (docs/payments.md): amount_paid never above amount_due; paid_at needed to
enter paid; a grant's payments never above its amount_recommended unless an admin
overrides; only an admin moves a payment out of paid. Each violation is a validation error
(code 100) naming its rule, and writes nothing."""

import pytest

from grantd_harness import assert_error, jparse

pytestmark = [pytest.mark.writes]

TX = "request_transaction"


def grant_with_budget(s, recommended="10000"):
    g = s.create_grant()
    s.update("grant_request", g["id"], {"amount_recommended": recommended})
    return g["id"]


def pay(s, gid, due, role="admin", **more):
    data = {"request_id": gid, "amount_due": due}
    data.update(more)
    return s.write("POST", TX, None, data, role=role)


def rules_of(err):
    return sorted(d.get("rule") for d in err.get("details", []))


def test_amount_paid_within_due(srv):
    gid = grant_with_budget(srv)
    with srv.unchanged():
        err = assert_error(pay(srv, gid, "100", amount_paid="100.01"), 100)
    assert rules_of(err) == ["amount_paid_within_due"], err
    assert "Amount paid is more than amount_due" in err["message"]
    tid = jparse(pay(srv, gid, "100", amount_paid="100"))[TX]["id"]
    with srv.unchanged():
        err = assert_error(srv.write("PUT", TX, tid, {"amount_due": "99.99"}), 100)
        assert rules_of(err) == ["amount_paid_within_due"]
        assert_error(srv.write("PUT", TX, tid, {"amount_paid": "150"}), 100)
    srv.update(TX, tid, {"amount_paid": "40", "amount_due": "40"})


def test_paid_at_to_become_paid(srv):
    gid = grant_with_budget(srv)
    tid = jparse(pay(srv, gid, "500", state="due"))[TX]["id"]
    with srv.unchanged():
        err = assert_error(srv.write("PUT", TX, tid, {"state": "paid"}, role="employee"), 100)
    assert rules_of(err) == ["paid_at_when_paid"], err
    srv.update(TX, tid, {"state": "paid", "paid_at": "2026-12-08T09:00:00Z",
                         "amount_paid": "500"}, role="employee")
    # a create straight into paid (an import) needs it too
    with srv.unchanged():
        err = assert_error(pay(srv, gid, "1", state="paid"), 100)
    assert rules_of(err) == ["paid_at_when_paid"]


def test_payments_within_the_grant(srv):
    gid = grant_with_budget(srv, "1000")
    first = jparse(pay(srv, gid, "600"))[TX]["id"]
    with srv.unchanged():
        err = assert_error(pay(srv, gid, "400.01"), 100)
    assert rules_of(err) == ["payments_within_grant"], err
    pay(srv, gid, "400")  # exactly the grant: allowed
    with srv.unchanged():
        err = assert_error(srv.write("PUT", TX, first, {"amount_due": "600.0001"}), 100)
        assert rules_of(err) == ["payments_within_grant"]
        # an employee cannot override
        r = srv.write("PUT", TX, first, {"amount_due": "700"}, role="employee",
                      override_rules="payments_within_grant")
        assert rules_of(assert_error(r, 100)) == ["payments_within_grant"]
    # an admin can, by naming the rule
    r = srv.write("PUT", TX, first, {"amount_due": "700"}, override_rules="payments_within_grant")
    assert r.status_code == 200 and "error" not in jparse(r), r.text
    # a deleted payment no longer counts
    srv.delete(TX, first)
    pay(srv, gid, "600")


def test_only_an_admin_reverses_a_paid_payment(srv):
    gid = grant_with_budget(srv)
    tid = jparse(pay(srv, gid, "50", state="paid", paid_at="2026-12-08",
                     amount_paid="50"))[TX]["id"]
    with srv.unchanged():
        err = assert_error(srv.write("PUT", TX, tid, {"state": "due"}, role="employee"), 100)
    assert rules_of(err) == ["paid_stays_paid"], err
    with srv.unchanged():  # other exits stay closed to everybody
        assert_error(srv.write("PUT", TX, tid, {"state": "tentatively_due"}), 104)
    srv.update(TX, tid, {"state": "due"})  # the admin reverses it
    assert srv.fetch(TX, tid)["state"] == "due"


def test_unrelated_edits_of_an_older_payment_still_work(srv):
    """A seeded payment that would break a rule stays editable in other fields."""
    gid = grant_with_budget(srv, "10")
    tid = jparse(pay(srv, gid, "5"))[TX]["id"]
    srv.update("grant_request", gid, {"amount_recommended": "1"})  # now the payments exceed it
    srv.update(TX, tid, {"comment": "still editable"})
    with srv.unchanged():
        assert_error(srv.write("PUT", TX, tid, {"amount_due": "6"}), 100)
