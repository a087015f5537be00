"""Property test (issue 14): in telegram mode the buttons are still exactly what the domain accepts, and
Activate & fund, which sends an invoice there, is shown exactly when an invoice may be issued and paid."""

from __future__ import annotations

from copy import deepcopy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actions import Action
from domain.errors import DomainError
from domain.model import Contract, PaymentMode, Role
from tests.bot.test_buttons_property import every_target, performs, shown_presses
from tests.unit.helpers import CLIENT, FREELANCER, NOW, TODAY

ops = st.lists(
    st.tuples(st.sampled_from(["add", "pay", "submit", "approve", "refund", "end", "keep"]), st.integers(0, 5)),
    max_size=20,
)


def build(steps: list[tuple[str, int]]) -> Contract:
    c = Contract.create(CLIENT, Role.CLIENT, "Shop", "XTR", NOW, payments=PaymentMode.TELEGRAM)
    c.id = 1
    c.join(FREELANCER, NOW)
    for n, (op, i) in enumerate(steps):
        ids = [m.id for m in c.milestones] or [1]
        target = ids[i % len(ids)]
        try:
            if op == "add":
                ms = c.add_milestone(CLIENT, f"M{len(c.milestones)}", 10 + i, TODAY, "", TODAY, NOW)
                ms.id = len(c.milestones)
            elif op == "pay":
                c.issue_invoice(CLIENT, target, f"n{n}", NOW)
                c.apply_payment(CLIENT, target, c.milestone(target).amount, "XTR", f"ch{n}", "", NOW)
            elif op == "submit":
                c.submit(FREELANCER, target, "", NOW)
            elif op == "approve":
                c.approve(CLIENT, target, NOW)
            elif op == "refund":
                c.refund(FREELANCER, target, NOW)
            elif op == "end":
                c.end(CLIENT, NOW)
            else:
                c.keep_open(CLIENT, NOW)
        except DomainError:
            pass
    return c


def invoice_pays(c: Contract, target: int) -> bool:
    copy = deepcopy(c)
    try:
        copy.issue_invoice(CLIENT, target, "fresh", NOW)
    except DomainError:
        return False
    ms = copy.milestone(target)
    return copy.payment_refusal(CLIENT, target, "fresh", ms.amount, "XTR") is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ops)
def test_telegram_mode_buttons_are_what_the_domain_accepts(steps):
    c = build(steps)
    for viewer, role in ((CLIENT, Role.CLIENT), (FREELANCER, Role.FREELANCER)):
        shown = {(p.action, p.target) for p in shown_presses(c, role)}
        for action, target in every_target(c):
            if action is Action.ACTIVATE:  # an invoice, then its payment, instead of the activation
                may = viewer == CLIENT and invoice_pays(c, target)
                assert not performs(c, action, viewer, target), "telegram mode never activates unpaid"
            else:
                may = performs(c, action, viewer, target)
            assert ((action, target) in shown) == may, (role, action, target)
        assert Action.CONFIRM_PAYMENT not in {a for a, _ in shown}, "no confirmation between the parties"
