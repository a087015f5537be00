"""One test (or more) per rule R1-R14 of PRODUCT.md section 2, on the pure contract aggregate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import (
    AlreadyDone,
    AnotherMilestoneFunded,
    ContractClosed,
    InvalidInput,
    InvalidState,
    InviteInvalid,
    NotAllowed,
    OutOfOrder,
)
from domain.model import Contract, ContractStatus, Invite, LedgerKind, MilestoneStatus, Role
from domain.money import validate_amount

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, add, snapshot


def ledger_sums(c: Contract) -> dict[LedgerKind, int]:
    sums = {k: 0 for k in LedgerKind}
    for e in c.new_ledger:
        sums[e.kind] += e.amount
    return sums


# R1 ------------------------------------------------------------------------------------------
def test_r1_only_the_earliest_unfunded_milestone_can_be_activated():
    c = active_contract()
    a, b = add(c, "Design"), add(c, "Build")
    before = snapshot(c)
    with pytest.raises(OutOfOrder) as err:
        c.activate(CLIENT, b.id, NOW)
    assert err.value.reason == "Milestones are activated in the order they were created: activate «Design» first."
    assert snapshot(c) == before
    c.activate(CLIENT, a.id, NOW)
    assert a.status is MilestoneStatus.ACTIVE


def test_r1_a_deleted_milestone_no_longer_blocks_the_order():
    c = active_contract()
    a, b = add(c, "Design"), add(c, "Build")
    c.delete_milestone(CLIENT, a.id, NOW)
    c.activate(CLIENT, b.id, NOW)
    assert b.status is MilestoneStatus.ACTIVE


# R2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("submitted", [False, True])
def test_r2_next_milestone_waits_until_the_funded_one_is_released(submitted):
    c = active_contract()
    a, b = add(c, "Design"), add(c, "Build")
    c.activate(CLIENT, a.id, NOW)
    if submitted:
        c.submit(FREELANCER, a.id, "done", NOW)
    before = snapshot(c)
    with pytest.raises(AnotherMilestoneFunded) as err:
        c.activate(CLIENT, b.id, NOW)
    assert err.value.reason == "Release «Design» before activating the next milestone."
    assert snapshot(c) == before


def test_r2_release_or_refund_frees_the_way():
    c = active_contract()
    a, b, d = add(c, "Design"), add(c, "Build"), add(c, "Deploy")
    c.activate(CLIENT, a.id, NOW)
    c.submit(FREELANCER, a.id, "", NOW)
    c.approve(CLIENT, a.id, NOW)
    c.activate(CLIENT, b.id, NOW)
    c.refund(FREELANCER, b.id, NOW)
    c.activate(CLIENT, d.id, NOW)
    assert [m.status for m in c.ordered()] == [
        MilestoneStatus.RELEASED,
        MilestoneStatus.REFUNDED,
        MilestoneStatus.ACTIVE,
    ]


# R3 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "action, actor, role_word",
    [
        (lambda c, m, a: c.activate(a, m.id, NOW), FREELANCER, "client"),
        (lambda c, m, a: c.submit(a, m.id, "x", NOW), CLIENT, "freelancer"),
        (lambda c, m, a: c.approve(a, m.id, NOW), FREELANCER, "client"),
        (lambda c, m, a: c.request_changes(a, m.id, "x", NOW), FREELANCER, "client"),
        (lambda c, m, a: c.delete_milestone(a, m.id, NOW), FREELANCER, "client"),
        (lambda c, m, a: c.edit_milestone(a, m.id, NOW, TODAY, title="New"), FREELANCER, "client"),
        (lambda c, m, a: c.end(a, NOW), FREELANCER, "client"),
    ],
)
def test_r3_each_action_belongs_to_one_role(action, actor, role_word):
    c = active_contract()
    m = add(c, "Design")
    before = snapshot(c)
    with pytest.raises(NotAllowed) as err:
        action(c, m, actor)
    assert err.value.reason == f"Only the {role_word} of this contract can do that."
    assert snapshot(c) == before


def test_r3_strangers_can_neither_act_nor_view():
    c = active_contract()
    m = add(c, "Design")
    for act in (
        lambda: c.activate(STRANGER, m.id, NOW),
        lambda: c.submit(STRANGER, m.id, "", NOW),
        lambda: c.add_milestone(STRANGER, "X", 100, TODAY, "", TODAY, NOW),
        lambda: c.require_party(STRANGER),
    ):
        with pytest.raises(NotAllowed):
            act()
    assert c.require_party(CLIENT) is Role.CLIENT and c.require_party(FREELANCER) is Role.FREELANCER


# R4 ------------------------------------------------------------------------------------------
def test_r4_actions_need_the_right_state():
    c = active_contract()
    m = add(c, "Design")
    with pytest.raises(InvalidState, match="not funded yet"):
        c.submit(FREELANCER, m.id, "", NOW)
    with pytest.raises(InvalidState):
        c.approve(CLIENT, m.id, NOW)
    c.activate(CLIENT, m.id, NOW)
    with pytest.raises(InvalidState):
        c.edit_milestone(CLIENT, m.id, NOW, TODAY, title="x")
    with pytest.raises(InvalidState):
        c.delete_milestone(CLIENT, m.id, NOW)
    with pytest.raises(InvalidState):
        c.request_changes(CLIENT, m.id, "why", NOW)
    c.submit(FREELANCER, m.id, "", NOW)
    c.approve(CLIENT, m.id, NOW)
    with pytest.raises(AlreadyDone) as err:
        c.approve(CLIENT, m.id, NOW)
    assert err.value.reason == "«Design» is already released."
    with pytest.raises(AlreadyDone):
        c.activate(CLIENT, m.id, NOW)


# R5 ------------------------------------------------------------------------------------------
def test_r5_a_proposal_takes_its_place_in_the_order_when_accepted():
    c = active_contract()
    p = add(c, "Proposed first", actor=FREELANCER)
    assert p.status is MilestoneStatus.PROPOSED and p.seq is None
    with pytest.raises(InvalidState):
        c.activate(CLIENT, p.id, NOW)
    a = add(c, "Client's")
    c.accept_proposal(CLIENT, p.id, NOW)
    assert p.status is MilestoneStatus.NOT_FUNDED
    assert [m.title for m in c.ordered()] == ["Client's", "Proposed first"]
    with pytest.raises(OutOfOrder):
        c.activate(CLIENT, p.id, NOW)
    c.activate(CLIENT, a.id, NOW)


def test_r5_only_the_client_accepts_and_rejected_proposals_never_enter_the_order():
    c = active_contract()
    p = add(c, "Idea", actor=FREELANCER)
    with pytest.raises(NotAllowed):
        c.accept_proposal(FREELANCER, p.id, NOW)
    c.reject_proposal(CLIENT, p.id, NOW, "not now")
    assert p.status is MilestoneStatus.REJECTED and p.seq is None and c.ordered() == []


# R6 ------------------------------------------------------------------------------------------
def test_r6_request_changes_returns_to_active_counts_and_restarts_review():
    c = active_contract()
    m = add(c, "Design")
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "v1", NOW)
    first_deadline = c.auto_release_at(m)
    c.request_changes(CLIENT, m.id, "Logo too small", NOW + timedelta(days=2))
    assert m.status is MilestoneStatus.ACTIVE and m.revision_count == 1 and m.change_reason == "Logo too small"
    assert c.new_history[-1].note == "Logo too small"
    assert c.auto_release_at(m) is None
    later = NOW + timedelta(days=5)
    c.submit(FREELANCER, m.id, "v2", later)
    assert c.auto_release_at(m) == later + timedelta(days=14) > first_deadline


def test_r6_a_reason_is_required():
    c = active_contract()
    m = add(c, "Design")
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "", NOW)
    with pytest.raises(InvalidInput):
        c.request_changes(CLIENT, m.id, "   ", NOW)
    assert m.status is MilestoneStatus.SUBMITTED


# R7 ------------------------------------------------------------------------------------------
def test_r7_auto_release_only_after_the_review_period():
    c = active_contract(review_days=14)
    m = add(c, "Design")
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "", NOW)
    with pytest.raises(InvalidState):
        c.auto_release(m.id, NOW + timedelta(days=14) - timedelta(seconds=1))
    c.auto_release(m.id, NOW + timedelta(days=14))
    assert m.status is MilestoneStatus.RELEASED and m.auto_released
    assert c.new_history[-1].action == "auto_released" and c.new_history[-1].actor_id is None
    with pytest.raises(AlreadyDone):
        c.auto_release(m.id, NOW + timedelta(days=15))


# R8 ------------------------------------------------------------------------------------------
def test_r8_freelancer_refunds_at_once_client_must_ask():
    c = active_contract()
    a, b = add(c, "A"), add(c, "B")
    c.activate(CLIENT, a.id, NOW)
    with pytest.raises(NotAllowed):
        c.refund(CLIENT, a.id, NOW)
    c.request_refund(CLIENT, a.id, NOW)
    assert a.status is MilestoneStatus.ACTIVE
    with pytest.raises(AlreadyDone):
        c.request_refund(CLIENT, a.id, NOW)
    c.decline_refund(FREELANCER, a.id, NOW)
    assert a.status is MilestoneStatus.ACTIVE and a.refund_requested_at is None
    with pytest.raises(InvalidState):
        c.accept_refund(FREELANCER, a.id, NOW)
    c.request_refund(CLIENT, a.id, NOW)
    c.accept_refund(FREELANCER, a.id, NOW)
    assert a.status is MilestoneStatus.REFUNDED
    assert ledger_sums(c)[LedgerKind.REFUND] == a.amount
    c.activate(CLIENT, b.id, NOW)  # the way is free again
    c.submit(FREELANCER, b.id, "", NOW)
    c.refund(FREELANCER, b.id, NOW)  # a submitted milestone can be refunded too
    assert b.status is MilestoneStatus.REFUNDED


def test_r8_unfunded_milestones_cannot_be_refunded():
    c = active_contract()
    a = add(c, "A")
    with pytest.raises(InvalidState):
        c.refund(FREELANCER, a.id, NOW)


# R9 ------------------------------------------------------------------------------------------
def test_r9_end_only_with_nothing_in_escrow_and_unfunded_are_cancelled():
    c = active_contract()
    a, b = add(c, "A"), add(c, "B")
    p = add(c, "P", actor=FREELANCER)
    c.activate(CLIENT, a.id, NOW)
    before = snapshot(c)
    with pytest.raises(InvalidState, match="release or refund it before ending"):
        c.end(CLIENT, NOW)
    assert snapshot(c) == before
    c.submit(FREELANCER, a.id, "", NOW)
    c.approve(CLIENT, a.id, NOW)
    assert not c.awaiting_close_decision()  # B is still to fund
    cancelled = c.end(CLIENT, NOW)
    assert {m.id for m in cancelled} == {b.id, p.id}
    assert c.status is ContractStatus.ENDED and a.status is MilestoneStatus.RELEASED
    for act in (lambda: add(c, "C"), lambda: c.keep_open(CLIENT, NOW), lambda: c.end(CLIENT, NOW)):
        with pytest.raises(ContractClosed):
            act()


def test_r9_after_the_last_release_the_client_decides():
    c = active_contract()
    a = add(c, "A")
    c.activate(CLIENT, a.id, NOW)
    c.submit(FREELANCER, a.id, "", NOW)
    assert not c.awaiting_close_decision()
    c.approve(CLIENT, a.id, NOW)
    assert c.awaiting_close_decision()
    c.keep_open(CLIENT, NOW)
    assert c.status is ContractStatus.ACTIVE
    assert not c.awaiting_close_decision()  # answered: not asked again
    b = add(c, "B")
    assert not c.awaiting_close_decision()
    later = NOW + timedelta(days=1)
    c.activate(CLIENT, b.id, later)
    c.submit(FREELANCER, b.id, "", later)
    c.approve(CLIENT, b.id, later)
    assert c.awaiting_close_decision()  # a new last release: asked again


# R10 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "minor, currency, ok",
    [
        (1, "USD", True),
        (0, "USD", False),
        (-5, "USD", False),
        (100_000_000_000, "USD", True),
        (100_000_000_001, "USD", False),
        (1_000_000_000, "JPY", True),
        (1_000_000_001, "JPY", False),
        (1_000_000_000_000, "KWD", True),
        (1_000_000_000_001, "KWD", False),
    ],
)
def test_r10_amount_bounds_follow_the_currency(minor, currency, ok):
    if ok:
        assert validate_amount(minor, currency) == minor
    else:
        with pytest.raises(InvalidInput):
            validate_amount(minor, currency)


def test_r10_floats_are_refused_and_the_aggregate_checks_amounts():
    with pytest.raises(InvalidInput):
        validate_amount(10.5, "USD")  # type: ignore[arg-type]
    c = active_contract()
    with pytest.raises(InvalidInput, match="greater than zero"):
        c.add_milestone(CLIENT, "A", 0, TODAY, "", TODAY, NOW)
    assert c.milestones == []


# R11 -----------------------------------------------------------------------------------------
def test_r11_due_date_today_or_later_on_create_and_edit():
    c = active_contract()
    with pytest.raises(InvalidInput, match="today or later"):
        c.add_milestone(CLIENT, "A", 100, TODAY - timedelta(days=1), "", TODAY, NOW)
    m = c.add_milestone(CLIENT, "A", 100, TODAY, "", TODAY, NOW)
    m.id = 1
    with pytest.raises(InvalidInput, match="today or later"):
        c.edit_milestone(CLIENT, m.id, NOW, TODAY, due_date=TODAY - timedelta(days=1))
    assert m.due_date == TODAY


# R12 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "title, ok", [("", False), ("   ", False), ("x" * 100, True), ("x" * 101, False), ("<b>&amp; 🚀 مرحبا", True)]
)
def test_r12_title_limits_and_text_kept_exactly(title, ok):
    c = active_contract()
    if ok:
        m = c.add_milestone(CLIENT, title, 100, TODAY, "d" * 2000, TODAY, NOW)
        assert m.title == title and len(m.description) == 2000
    else:
        with pytest.raises(InvalidInput):
            c.add_milestone(CLIENT, title, 100, TODAY, "", TODAY, NOW)


def test_r12_description_and_reason_limits():
    c = active_contract()
    with pytest.raises(InvalidInput, match="2,000"):
        c.add_milestone(CLIENT, "A", 100, TODAY, "d" * 2001, TODAY, NOW)
    m = add(c, "A")
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "", NOW)
    with pytest.raises(InvalidInput, match="1,000"):
        c.request_changes(CLIENT, m.id, "r" * 1001, NOW)
    c.request_changes(CLIENT, m.id, "r" * 1000, NOW)


# R13 -----------------------------------------------------------------------------------------
def test_r13_a_second_approval_is_refused_and_the_ledger_balances():
    c = active_contract()
    m = add(c, "A", amount=12_345)
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "", NOW)
    c.approve(CLIENT, m.id, NOW)
    with pytest.raises(AlreadyDone, match="already released"):
        c.approve(CLIENT, m.id, NOW)
    sums = ledger_sums(c)
    t = c.totals()
    assert sums[LedgerKind.FUND] == t.funded == 12_345
    assert sums[LedgerKind.RELEASE] == t.released == 12_345
    assert t.funded == t.released + t.refunded + t.in_escrow


# R14 -----------------------------------------------------------------------------------------
def test_r14_every_change_is_in_the_history_with_who_and_what():
    c = active_contract()
    m = add(c, "A")
    c.activate(CLIENT, m.id, NOW)
    c.submit(FREELANCER, m.id, "here it is", NOW)
    c.request_changes(CLIENT, m.id, "fix it", NOW)
    c.submit(FREELANCER, m.id, "fixed", NOW)
    c.approve(CLIENT, m.id, NOW)
    c.end(CLIENT, NOW)
    got = [(h.action, h.actor_id, h.note) for h in c.new_history]
    assert got == [
        ("contract_created", CLIENT, "as client"),
        ("joined", FREELANCER, "as freelancer"),
        ("milestone_added", CLIENT, ""),
        ("activated", CLIENT, ""),
        ("submitted", FREELANCER, "here it is"),
        ("changes_requested", CLIENT, "fix it"),
        ("submitted", FREELANCER, "fixed"),
        ("released", CLIENT, ""),
        ("contract_ended", CLIENT, ""),
    ]
    assert all(h.at == NOW for h in c.new_history)


def test_r14_a_refused_action_writes_no_history():
    c = active_contract()
    m = add(c, "A")
    n = len(c.new_history)
    with pytest.raises(InvalidState):
        c.approve(CLIENT, m.id, NOW)
    assert len(c.new_history) == n


# Invites ---------------------------------------------------------------------------------------
def test_invite_rules():
    inv = Invite("t", 1, CLIENT, NOW, NOW + timedelta(days=7))
    with pytest.raises(InviteInvalid, match="You created"):
        inv.check_can_accept(CLIENT, NOW)
    with pytest.raises(InviteInvalid, match="expired"):
        inv.check_can_accept(FREELANCER, NOW + timedelta(days=7))
    inv.check_can_accept(FREELANCER, NOW + timedelta(days=6))
    c = Contract.create(FREELANCER, Role.FREELANCER, "Site", "EUR", NOW)
    with pytest.raises(ContractClosed):
        c.add_milestone(FREELANCER, "A", 100, TODAY, "", TODAY, NOW)
    assert c.join(CLIENT, NOW) is Role.CLIENT
    with pytest.raises(InviteInvalid):
        c.join(STRANGER, NOW)
