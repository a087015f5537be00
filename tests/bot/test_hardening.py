"""What a stranger, a modified client or an odd update can learn or break (issue: hardening)."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.actions import ACTIONS
from domain.actions import RULES
from domain.model import MilestoneStatus

from .helpers import (
    every_press_is_answered,  # noqa: F401 (a fixture)
    milestones,
    open_card,
    press_forged,
    story_so_far,
    svc,
    usd,
)


async def story(harness, ann, bob):
    """Design funded and submitted, Build waiting; the contract is called «TOP-SECRET»."""
    return await story_so_far(harness, ann, bob, title="TOP-SECRET")


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_stranger_in_an_unlinked_group_learns_no_title(harness, people, tg):
    ann, bob, eve = people
    group = tg.group(-100777, "Elsewhere")
    cid, (design, build) = await story(harness, ann, bob)
    hello = await harness.send(eve, "/start", chat=group)
    for data in (f"m:apr:{design.id}", f"c:view:{cid}:0", f"c:hist:{cid}:0", f"m:act:{build.id}", f"c:end:{cid}"):
        answer = await press_forged(harness, eve, hello, data)
        assert "TOP-SECRET" not in answer["text"] and answer["show_alert"], data
    # A party pressing there still hears whose button it is.
    answer = await press_forged(harness, bob, hello, f"m:apr:{design.id}")
    assert answer["text"] == "This button is for the client of «TOP-SECRET»."
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED


async def test_missing_and_foreign_things_get_the_same_answer(harness, people, tg):
    ann, bob, eve = people
    cid, (design, _) = await story(harness, ann, bob)
    foreign = await harness.send(eve, f"/start c{cid}")
    missing = await harness.send(eve, "/start c999999999")
    assert foreign.plain_text == missing.plain_text
    start = await harness.send(eve, "/start")
    answers = [await press_forged(harness, eve, start, data) for data in (f"m:apr:{design.id}", "m:apr:999999")]
    assert answers[0]["text"] == answers[1]["text"]
    answers = [await press_forged(harness, eve, start, data) for data in (f"c:hist:{cid}:0", "c:hist:999999:0")]
    assert answers[0]["text"] == answers[1]["text"]


async def test_a_forged_link_press_in_a_private_chat_links_nothing(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await story(harness, ann, bob)
    card = await open_card(harness, ann, cid)
    answer = await press_forged(harness, ann, card, f"lnk:set:{cid}")
    assert "group" in answer["text"]
    assert (await svc(harness).view(cid, ann.id)).group_chat_id is None


async def test_edits_are_not_read_and_nothing_crashes(harness, people, tg, caplog):
    ann, _, _ = people
    asked = await harness.send(ann, "/newcontract")
    sent = await harness.send(ann, "Website")  # the title step
    assert "currency" in sent.plain_text
    title_message = tg.user_messages(ann)[-1]
    count = len(tg.messages(ann))
    tg.send_update({"edited_message": {**tg._message_dict(title_message), "text": "EUR", "edit_date": 1}})
    await harness.pump()
    [told] = tg.messages(ann)[count:]
    assert "only read new messages" in told.plain_text
    reply = await harness.send(ann, "EUR")  # the currency step goes on as it was
    assert "Currency: EUR" in reply.plain_text
    # An edited command does not run again.
    count = len(tg.messages(ann))
    command = tg.user_messages(ann)[0]
    assert command.text == "/newcontract" and asked
    tg.send_update({"edited_message": {**tg._message_dict(command), "text": "/newcontract", "edit_date": 2}})
    await harness.pump()
    assert [m.plain_text for m in tg.messages(ann)[count:]] == [
        "I only read new messages: send the corrected text again."
    ]
    assert errors(caplog) == []


async def test_control_characters_are_refused_with_the_reason(harness, people, tg):
    ann, _, _ = people
    await harness.send(ann, "/newcontract")
    answer = await harness.send(ann, "Web\x00site")
    assert "control characters" in answer.plain_text and "U+0000" in answer.plain_text
    assert "currency" in (await harness.send(ann, "Website")).plain_text


async def test_updates_without_a_sender_or_a_message_are_handled(harness, people, tg, caplog):
    ann, bob, _ = people
    cid, (design, _) = await story(harness, ann, bob)
    tg.send_update(
        {"channel_post": {"message_id": 1, "date": 1, "chat": {"id": -1001, "type": "channel"}, "text": "/start"}}
    )
    await harness.pump()
    bob_count = len(tg.messages(bob))
    # A press on a message the bot can't see (an inline message): the release happens once, Bob hears of
    # it and Ann gets the card in her private chat. (Approve asks first, issue 12: the question goes to her
    # private chat too; the release is the confirmed press "m:apry".)
    for query_id, data in (("76", f"m:apr:{design.id}"), ("77", f"m:apry:{design.id}")):
        tg.send_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"},
                    "chat_instance": "1",
                    "inline_message_id": "abc",
                    "data": data,
                }
            }
        )
        await harness.pump()
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.RELEASED
    assert any("released" in m.plain_text for m in tg.messages(bob)[bob_count:]), (
        [m.plain_text for m in tg.messages(bob)[bob_count:]],
        errors(caplog),
        tg.answer_for("77"),
    )
    assert "TOP-SECRET" in tg.messages(ann)[-1].plain_text and usd(150_000) in tg.messages(ann)[-1].plain_text
    assert errors(caplog) == []


IDS = st.sampled_from(["1", "2", "3", "999999", "0"])
MS_CODES = sorted(v.code for a, v in ACTIONS.items() if RULES[a].on_milestone)
C_CODES = sorted(v.code for a, v in ACTIONS.items() if not RULES[a].on_milestone) + ["view", "hist", "endy"]
# Every prefix the bot reads, well formed (so it reaches the services), plus near misses.
FORGED = st.one_of(
    st.builds("m:{}{}:{}".format, st.sampled_from(MS_CODES), st.sampled_from(["", "y"]), IDS),
    st.builds("c:{}:{}:{}".format, st.sampled_from(C_CODES), IDS, st.sampled_from(["0", "1"])),
    st.builds("c:{}:{}".format, st.sampled_from(C_CODES), IDS),
    st.builds("lnk:set:{}".format, IDS),
    st.builds("pick:{}".format, IDS),
    st.builds("pg:{}:{}".format, st.sampled_from(["view", "link", "add"]), st.sampled_from(["0", "1"])),
    st.builds("inv:{}:{}".format, st.sampled_from(["y", "n"]), st.sampled_from(["x", "abc-def_123"])),
    st.sampled_from(
        [
            "c:list",
            "c:list:1",
            "c:new",
            "cur:USD",
            "role:client",
            "nc:create",
            "am:save",
            "sub:skip",
            "tz:UTC",
            "st:done",
        ]
    ),
    st.text(max_size=30),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=FORGED, in_group=st.booleans())
async def test_forged_presses_by_a_stranger_reveal_and_change_nothing(harness, people, tg, data, in_group):
    ann, bob, eve = people
    if not hasattr(harness, "_story"):
        harness._story = await story(harness, ann, bob)
        harness._before = await svc(harness).view(harness._story[0], ann.id)
    cid = harness._story[0]
    chat = tg.group(-100555, "Strangers") if in_group else None
    where = await harness.send(eve, "/help", chat=chat)
    count = len(tg.messages(chat or eve))
    answer = await press_forged(harness, eve, where, data)
    said = [answer.get("text") or ""] + [m.plain_text for m in tg.messages(chat or eve)[count:]]
    for secret in ("TOP-SECRET", "Design", "Build", "Ann", "Bob", usd(150_000), usd(70_000)):
        assert not any(secret in text for text in said), (data, said)
    after = await svc(harness).view(cid, ann.id)
    assert [(m.id, m.status) for m in after.milestones] == [(m.id, m.status) for m in harness._before.milestones]
    assert after.group_chat_id is None and after.status is harness._before.status


async def test_a_business_chats_text_is_not_an_answer_to_a_step(harness, people, tg, caplog):
    ann, _, _ = people
    await harness.send(ann, "/newcontract")
    count = len(tg.messages(ann))
    business = {
        "business_connection_id": "b1",
        "message_id": 9,
        "date": 1,
        "text": "hi customer",
        "chat": {"id": 555, "type": "private", "first_name": "Carl"},
        "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"},
    }
    tg.send_update({"business_message": business})
    tg.send_update({"edited_business_message": {**business, "text": "hi again", "edit_date": 2}})
    await harness.pump()
    assert tg.messages(ann)[count:] == []
    assert "currency" in (await harness.send(ann, "Website")).plain_text  # the title step was still waiting
    assert errors(caplog) == []


async def test_a_refused_press_keeps_the_step_the_person_is_in(harness, people, tg):
    ann, bob, eve = people
    _, (design, _) = await story(harness, ann, bob)
    await harness.send(eve, "/newcontract")
    asked = await harness.send(eve, "Eve's shop")
    answer = await press_forged(harness, eve, asked, f"m:sub:{design.id}")  # someone else's Submit work
    assert answer["show_alert"]
    assert "Currency: EUR" in (await harness.send(eve, "EUR")).plain_text


def test_group_chatter_does_not_count_against_a_persons_limit():
    from telegram import Chat, Message, User
    from telegram import Update as U

    from bot.concurrency import _for_the_bot

    person = User(1, "Ann", False)

    def message(chat_type: str, text: str) -> U:
        return U(
            1,
            message=Message(1, None, Chat(-5 if chat_type != "private" else 1, chat_type), from_user=person, text=text),
        )

    assert not _for_the_bot(message("group", "lunch?"))
    assert _for_the_bot(message("group", "/link"))
    assert _for_the_bot(message("private", "Website"))
