"""The callback codec: every press round-trips within 64 bytes; anything else decodes to None."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import (
    MAX_BYTES,
    CallbackTooLong,
    Choice,
    ContractList,
    History,
    InviteAnswer,
    LinkGroup,
    NewContract,
    Pick,
    PickerPage,
    Press,
    View,
    decode,
)
from domain.actions import RULES, Action

ids = st.integers(1, 999_999_999)
pages = st.integers(0, 9999)
callbacks = st.one_of(
    st.builds(Press, st.sampled_from(list(Action)), ids, st.booleans()),
    st.builds(View, ids, pages),
    st.builds(History, ids, pages),
    st.builds(ContractList, pages),
    st.just(NewContract()),
    st.builds(InviteAnswer, st.booleans(), st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True)),
    st.builds(LinkGroup, ids),
    st.builds(PickerPage, st.sampled_from(["view", "link", "add"]), pages),
    st.builds(Pick, ids),
    st.builds(Choice, st.just("cur"), st.from_regex(r"[A-Z]{3}", fullmatch=True)),
    st.builds(
        Choice, st.just("tz"), st.sampled_from(["UTC", "Europe/Berlin", "UTC+05:30", "America/Argentina/Buenos_Aires"])
    ),
    st.builds(Choice, st.just("am"), st.sampled_from(["skip", "save", "edit", "cancel", "f:title", "f:due"])),
)


@given(callbacks)
def test_every_callback_round_trips_within_the_limit(cb):
    data = cb.encode()
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == cb


@given(st.text(max_size=80))
def test_anything_decodes_to_a_callback_that_encodes_back_or_to_none(data):
    cb = decode(data)
    if cb is not None:
        assert decode(cb.encode()) == cb


def test_buttons_already_in_chats_keep_their_meaning():
    assert decode("m:apr:42") == Press(Action.APPROVE, 42)
    assert decode("c:endy:7") == Press(Action.END, 7, confirmed=True)
    assert decode("c:view:7:0") == View(7, 0) == decode("c:view:7")
    assert decode("c:add:7") == Press(Action.ADD_MILESTONE, 7)
    assert decode("c:list") == ContractList(0)


def test_forged_data_is_refused():
    for data in [
        "m:apr:1'; DROP TABLE milestones;--",
        "m:apr:" + "9" * 40,
        "m:act:1:2:3",
        "garbage",
        "m:end:1",
        "c:apr:1",
        "c:view:" + "9" * 30,
        "tz:" + "x" * 61,
        "cur:usd",
        "am:f:secret",
        "pg:other:1",
        "m:apr:٤٢",
        None,
        42,
        "m:zzz:1",
    ]:
        assert decode(data) is None, data


def test_the_scope_follows_the_action():
    for action, rule in RULES.items():
        assert Press(action, 1).encode().startswith("m:" if rule.on_milestone else "c:")


def test_an_over_long_callback_is_refused_when_built():
    try:
        Choice("tz", "x" * 70).encode()
    except CallbackTooLong:
        return
    raise AssertionError("a 73-byte callback was built")
