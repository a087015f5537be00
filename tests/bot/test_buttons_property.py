"""Property test: for random contracts and viewers the buttons shown are exactly what the domain accepts."""

from __future__ import annotations

from copy import deepcopy
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.actions import ACTIONS
from bot.callbacks import MAX_BYTES, Press, View, decode
from bot.keyboards import card_keyboard, confirm_keyboard, notification_keyboard
from bot.texts import card_pages
from domain.actions import RULES, Action
from domain.errors import DomainError
from domain.model import Contract, ContractStatus, Role
from tests.unit.helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract

# Valid inputs for each action's own arguments: with them, an action fails only because of a rule.
ARGS: dict[Action, dict] = {
    Action.SUBMIT: {"note": "done"},
    Action.REQUEST_CHANGES: {"reason": "fix the header"},
    Action.EDIT: {"today": TODAY, "title": "Renamed"},
    Action.ADD_MILESTONE: {"title": "More", "amount": 100, "due_date": TODAY, "description": "", "today": TODAY},
    # disagreements (PRODUCT §8): milestones here hold 1000
    Action.PAY_LESS: {"amount": 600, "reason": "half missing"},
    Action.APPROVE_WITH_BONUS: {"bonus": 100},
    Action.PROPOSE_DUE_DATE: {"due_date": TODAY + timedelta(days=400), "today": TODAY},
    Action.OPEN_DISPUTE: {"reason": "not delivered"},
    Action.OFFER_SETTLEMENT: {"amount": 400},
    Action.COUNTER_OFFER: {"amount": 700},
    Action.DECIDE_DISPUTE: {"amount": 500, "note": "split", "operators": frozenset({999})},
}


def performs(c: Contract, action: Action, actor: int | None, target: int | None) -> bool:
    """Whether the domain does it: the real method on a copy, with valid inputs (not the guard alone)."""
    copy = deepcopy(c)
    method = getattr(copy, RULES[action].method)
    try:
        if RULES[action].on_milestone:
            args = dict(ARGS.get(action, {}))
            if "amount" in args:  # a share of the milestone (pay less, an offer, a decision): half of it
                args["amount"] = max(1, copy.milestone(target).amount // 2) if target is not None else 1
            method(actor_id=actor, milestone_id=target, now=NOW, **args)
        else:
            method(actor_id=actor, now=NOW, **ARGS.get(action, {}))
    except DomainError:
        return False
    return True


steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "add",
                "propose",
                "activate",
                "submit",
                "approve",
                "changes",
                "refund",
                "request_refund",
                "accept_refund",
                "decline_refund",
                "accept",
                "reject",
                "delete",
                "keep",
                "end",
                "payment_received",  # ledger mode (issue 14)
                "payment_not_received",
                "pay_less",
                "bonus",
                "propose_date",
                "accept_date",
                "decline_date",
                "dispute",
                "offer",
                "counter",
                "accept_offer",
                "escalate",
            ]
        ),
        st.integers(0, 9),
    ),
    max_size=25,
)


def build(ops: list[tuple[str, int]], pending: bool) -> Contract:
    """A contract after a random walk of presses (refused ones change nothing)."""
    if pending:
        c = Contract.create(CLIENT, Role.CLIENT, "Website", "USD", NOW)
        c.id = 1
        return c
    c = active_contract()
    for op, i in ops:
        try:
            step(c, op, i)
        except DomainError:
            pass
    return c


def step(c: Contract, op: str, i: int) -> None:
    ids = [m.id for m in c.milestones] or [1]
    ms_id = ids[i % len(ids)]
    if op in ("add", "propose"):
        actor = CLIENT if op == "add" else FREELANCER
        ms = c.add_milestone(actor, f"M{len(c.milestones)}", 1000, TODAY + timedelta(days=i), "", TODAY, NOW)
        ms.id = len(c.milestones)
    elif op in ("keep", "end"):
        getattr(c, "keep_open" if op == "keep" else "end")(CLIENT, NOW)
    elif op == "escalate":
        c.escalate_dispute(ms_id, NOW + timedelta(days=5), 5)
    elif op in DISAGREE_OPS:
        action = DISAGREE_OPS[op]
        actor = CLIENT if i % 2 == 0 else FREELANCER  # either party may
        args = dict(ARGS.get(action, {}))
        if action is Action.PROPOSE_DUE_DATE:  # never the date `performs` proposes (that would be no change)
            args["due_date"] = TODAY + timedelta(days=500 + i)
        getattr(c, RULES[action].method)(actor_id=actor, milestone_id=ms_id, now=NOW, **args)
    else:
        action, actor, args = {
            "activate": (Action.ACTIVATE, CLIENT, {}),
            "submit": (Action.SUBMIT, FREELANCER, {"note": ""}),
            "approve": (Action.APPROVE, CLIENT, {}),
            "changes": (Action.REQUEST_CHANGES, CLIENT, {"reason": "again"}),
            "refund": (Action.REFUND, FREELANCER, {}),
            "request_refund": (Action.REQUEST_REFUND, CLIENT, {}),
            "accept_refund": (Action.ACCEPT_REFUND, FREELANCER, {}),
            "decline_refund": (Action.DECLINE_REFUND, FREELANCER, {}),
            "accept": (Action.ACCEPT_PROPOSAL, CLIENT, {}),
            "reject": (Action.REJECT_PROPOSAL, CLIENT, {}),
            "delete": (Action.DELETE, CLIENT, {}),
            "payment_received": (Action.CONFIRM_PAYMENT, FREELANCER, {}),
            "payment_not_received": (Action.PAYMENT_NOT_RECEIVED, FREELANCER, {}),
        }[op]
        getattr(c, RULES[action].method)(actor_id=actor, milestone_id=ms_id, now=NOW, **args)


DISAGREE_OPS = {
    "pay_less": Action.PAY_LESS,
    "bonus": Action.APPROVE_WITH_BONUS,
    "propose_date": Action.PROPOSE_DUE_DATE,
    "accept_date": Action.ACCEPT_DUE_DATE,
    "decline_date": Action.DECLINE_DUE_DATE,
    "dispute": Action.OPEN_DISPUTE,
    "offer": Action.OFFER_SETTLEMENT,
    "counter": Action.COUNTER_OFFER,
    "accept_offer": Action.ACCEPT_OFFER,
}


def shown_presses(c: Contract, role: Role | None) -> list[Press]:
    """Every action button on every page of the card (and, off the card, on the news about the contract
    and about each milestone)."""
    out = []
    markups = [card_keyboard(c, role, page) for page in range(card_pages(c))] + [notification_keyboard(c, role)]
    markups += [notification_keyboard(c, role, ms) for ms in c.milestones]
    for markup in markups:
        for row in markup.inline_keyboard:
            for button in row:
                assert len(button.callback_data.encode()) <= MAX_BYTES
                cb = decode(button.callback_data)
                assert cb is not None, button.callback_data
                assert decode(cb.encode()) == cb, "the codec round-trips"
                if isinstance(cb, Press):
                    out.append(cb)
    return out


def every_target(c: Contract) -> list[tuple[Action, int]]:
    pairs = []
    for action, rule in RULES.items():
        targets = [m.id for m in c.milestones] if rule.on_milestone else [c.id]
        pairs += [(action, t) for t in targets]
    return pairs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=steps)
def test_every_button_shown_is_accepted_and_every_accepted_action_is_shown(ops):
    c = build(ops, False)
    for viewer, role in ((CLIENT, Role.CLIENT), (FREELANCER, Role.FREELANCER)):
        shown = {(p.action, p.target) for p in shown_presses(c, role)}
        for action, target in shown:
            assert performs(c, action, viewer, target), f"{role}: shown but refused: {action} on {target}"
        for action, target in every_target(c):
            if performs(c, action, viewer, target):
                assert (action, target) in shown, f"{role}: accepted but not shown: {action} on {target}"


@settings(max_examples=200, deadline=None)
@given(ops=steps)
def test_a_groups_buttons_each_work_for_the_party_they_belong_to(ops):
    c = build(ops, False)
    for p in shown_presses(c, None):
        role = RULES[p.action].role
        people = [c.party_id(role)] if role else [CLIENT, FREELANCER]
        assert ACTIONS[p.action].in_group
        assert any(performs(c, p.action, who, p.target) for who in people), p
        assert not performs(c, p.action, STRANGER, p.target)


def test_a_waiting_contract_offers_a_new_invite_and_nothing_else():
    c = build([], pending=True)
    assert c.status is ContractStatus.PENDING
    shown = {p.action for p in shown_presses(c, Role.CLIENT)}
    assert shown == {Action.NEW_INVITE}
    assert performs(c, Action.NEW_INVITE, CLIENT, c.id) and not performs(c, Action.NEW_INVITE, STRANGER, c.id)


def test_a_stranger_is_offered_nothing():
    c = build([("add", 0), ("activate", 0)], False)
    assert c.allowed_actions(STRANGER) == []
    assert not any(performs(c, a, STRANGER, t) for a, t in every_target(c))


MONEY = (
    Action.APPROVE,
    Action.REFUND,
    Action.REQUEST_REFUND,
    Action.PAY_LESS,
    Action.APPROVE_WITH_BONUS,
    Action.ACCEPT_OFFER,
    Action.CONFIRM_PAYMENT,  # issue 14: the freelancer's word on money asks once too
    Action.PAYMENT_NOT_RECEIVED,
)


@settings(max_examples=200, deadline=None)
@given(ops=steps)
def test_money_taps_ask_first_and_the_confirm_button_does_what_was_asked(ops):
    """Issue 12: a money button shown asks first; its confirm button is the same action on the same target
    (through the codec), and the domain accepts it; Back returns to the card."""
    c = build(ops, False)
    for viewer, role in ((CLIENT, Role.CLIENT), (FREELANCER, Role.FREELANCER)):
        for p in shown_presses(c, role):
            assert not p.confirmed, "a list of buttons never carries a confirmed press"
            view = ACTIONS[p.action]
            if p.action in MONEY:
                assert view.confirm and view.confirm_label, p.action
            if not view.confirm:
                continue
            ms = c.milestone(p.target) if RULES[p.action].on_milestone else None
            [[yes], [back]] = confirm_keyboard(c, p.action, p.target, ms).inline_keyboard
            assert yes.text == view.confirm_label
            assert decode(yes.callback_data) == Press(p.action, p.target, confirmed=True)
            assert len(yes.callback_data.encode()) <= MAX_BYTES
            assert decode(back.callback_data) == View(c.id)
            assert performs(c, p.action, viewer, p.target)


# Disagreements start from a funded milestone (and an open dispute with an offer): walks from there.
STARTS = [
    [("add", 0), ("activate", 0)],
    [("add", 0), ("activate", 0), ("submit", 0)],
    [("add", 0), ("activate", 0), ("submit", 0), ("dispute", 0), ("offer", 1)],  # even i: the client
    [("add", 0), ("activate", 0), ("dispute", 1), ("offer", 0), ("escalate", 0)],
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=steps, start=st.sampled_from(STARTS))
def test_the_same_holds_around_disagreements(ops, start):
    """Pay less, bonus, new due dates, disputes, offers and counter-offers: shown exactly when accepted."""
    test_every_button_shown_is_accepted_and_every_accepted_action_is_shown.hypothesis.inner_test(ops=start + ops)
