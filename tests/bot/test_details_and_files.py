"""What people see (issue 12, points 7 and 8): a milestone's details can be read again from the card, and
Submit work takes files and photos that the client receives and that stay in the details; anything the bot
can't use gets an answer (a photo at a text step, stray text, an unknown command)."""

from __future__ import annotations

import logging
import time

from domain.model import MilestoneStatus

from .helpers import (
    add_milestone,
    bad_calls,
    display_date,
    message_by_id,
    milestones,
    open_card,
    press_forged,
    setup_contract,
    svc,
)

NOTE = "All done: mockups at https://example.com/figma <v2> & the style guide attached. " + "n" * 300
REASON = "Please use the brand colours & bigger type <b>. " + "r" * 400
DESCRIPTION = "Three screens: home, product, checkout. " + "d" * 1500


def labels(message) -> list[str]:
    return [label for label, _ in message.buttons]


def file_sends(tg, chat) -> list:
    """Successful sendDocument / sendPhoto calls to `chat`."""
    return [
        c
        for c in tg.calls
        if c.method in ("sendDocument", "sendPhoto") and c.ok and int(c.params["chat_id"]) == getattr(chat, "id", chat)
    ]


async def funded(harness, ann, bob, description: str | None = None) -> tuple[int, int]:
    """A contract whose Design is funded (and Build waits): (contract id, Design's id)."""
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks", description)
    await add_milestone(harness, ann, "Build", "700", "in 3 weeks")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund «Design»")
    design = (await milestones(harness, cid, ann))[0]
    return cid, design.id


async def open_details(harness, user, cid: int, title: str):
    """Card -> Details -> the milestone (the list is skipped when the page shows one milestone)."""
    card = await open_card(harness, user, cid)
    answer = await harness.press(user, card, "Details")
    assert answer.get("show_alert") is not True, answer
    shown = message_by_id(harness.tg, user, card.message_id)
    if "Which milestone" in shown.plain_text:
        await harness.press(user, shown, next(label for label in labels(shown) if title in label))
        shown = message_by_id(harness.tg, user, card.message_id)
    return shown


# ----- 7. details can be read again -----------------------------------------------------------------------


async def test_details_show_description_amount_status_revisions_full_notes_and_who_did_what(harness, people, tg):
    ann, bob, _ = people
    cid, design = await funded(harness, ann, bob, DESCRIPTION)
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, NOTE)
    await harness.press(ann, harness.last(ann), "Request changes")
    await harness.send(ann, REASON)
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "Second round")

    details = await open_details(harness, ann, cid, "Design")
    text = details.plain_text
    assert "Design" in text and "Website redesign" in text
    assert "$1,500.00" in text
    [ms] = [m for m in await milestones(harness, cid, ann) if m.id == design]
    assert display_date(ms.due_date) in text
    assert "submitted" in text and "revisions: 1" in text
    assert DESCRIPTION in text  # in full: the card shows no descriptions
    assert NOTE in text and REASON in text  # in full: the history cuts notes at 150 characters
    assert "Second round" in text
    for who_did_what in ("Ann added", "Ann activated", "Bob submitted work", "Ann requested changes"):
        assert who_did_what in text, who_did_what
    assert "Build" not in text  # one milestone's details, not the contract's
    assert "Back to contract" in labels(details)

    await harness.press(ann, details, "Back to contract")
    back = message_by_id(tg, ann, details.message_id)
    assert "you are the client" in back.plain_text and "Details" in labels(back)
    assert bad_calls(tg) == []


async def test_details_are_listed_per_milestone_from_the_card_and_open_for_the_freelancer_too(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob, "Logo and colours")
    card = await open_card(harness, bob, cid)
    await harness.press(bob, card, "Details")
    listing = message_by_id(tg, bob, card.message_id)
    assert "Which milestone" in listing.plain_text
    assert [label for label in labels(listing) if "Design" in label or "Build" in label] == ["1. Design", "2. Build"]
    await harness.press(bob, listing, "1. Design")
    details = message_by_id(tg, bob, card.message_id)
    assert "Logo and colours" in details.plain_text and "active" in details.plain_text
    assert bad_calls(tg) == []


async def test_a_stranger_cannot_open_details_and_a_group_shows_them_to_its_parties_only(harness, people, tg):
    ann, bob, eve = people
    cid, design = await funded(harness, ann, bob, "Secret plans")
    hello = await harness.send(eve, "/start")
    for data in (f"md:{design}:0", f"md:l:{cid}:0"):
        answer = await press_forged(harness, eve, hello, data)
        assert answer["show_alert"] is True
        assert "Only the client and the freelancer" in answer["text"], data
    assert not any("Secret plans" in t for t in harness.texts(eve))

    group = tg.group(-100321, "Team")
    await harness.send(ann, "/link", chat=group)
    group_card = tg.last_message(group)
    assert "Details" in labels(group_card)
    qid = tg.press(eve, group_card, "Details")
    await harness.pump()
    refused = tg.answer_for(qid)
    assert refused["show_alert"] is True and "client and the freelancer" in refused["text"]
    assert not any("Secret plans" in m.plain_text for m in tg.messages(group))

    await harness.press(bob, group_card, "Details")
    listing = message_by_id(tg, group, group_card.message_id)
    await harness.press(bob, listing, "1. Design")
    assert "Secret plans" in message_by_id(tg, group, group_card.message_id).plain_text
    assert bad_calls(tg) == []


async def test_long_details_are_paged_and_every_note_is_shown_whole(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob, "x" * 2000)
    notes = [f"note {i} " + chr(ord("a") + i) * 990 for i in range(4)]
    reasons = [f"reason {i} " + chr(ord("m") + i) * 990 for i in range(3)]
    for i in range(4):
        await harness.press(bob, harness.last(bob), "Submit work")
        await harness.send(bob, notes[i])
        if i < 3:
            await harness.press(ann, harness.last(ann), "Request changes")
            await harness.send(ann, reasons[i])

    details = await open_details(harness, ann, cid, "Design")
    pages = [details.plain_text]
    while "▶" in labels(details):
        await harness.press(ann, details, "▶")
        details = message_by_id(tg, ann, details.message_id)
        pages.append(details.plain_text)
    assert len(pages) > 1
    assert all(len(p) <= 4096 for p in pages)
    everything = "\n".join(pages)
    for text in [*notes, *reasons, "x" * 2000]:
        assert text in everything
    assert "Back to contract" in labels(details)
    assert bad_calls(tg) == []


# ----- 8. files are taken, delivered and kept ---------------------------------------------------------------


async def test_submit_work_takes_documents_and_photos_then_the_note_submits_everything(harness, people, tg):
    ann, bob, _ = people
    cid, design = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    assert "files" in harness.last(bob).plain_text  # the prompt says files are welcome

    tg.send_document(bob, "design-v2.pdf", caption="Final <mockups> & icons")
    await harness.pump()
    ack = harness.last(bob)
    assert "design-v2.pdf" in ack.plain_text and "1 file" in ack.plain_text
    tg.send_photo(bob)
    await harness.pump()
    assert "2 files" in harness.last(bob).plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE  # not yet: a note may follow

    document_id = tg.user_messages(bob)[-2].file_id
    photo_id = tg.user_messages(bob)[-1].file_id
    ann_count = len(tg.messages(ann))
    await harness.send(bob, "Here it is: https://example.com/preview")
    assert "Work submitted" in "\n".join(harness.texts(bob)[-3:])
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED

    # The client gets both files (by file_id, nothing downloaded), then the news with the approval buttons.
    got = tg.messages(ann)[ann_count:]
    assert [m.file_id for m in got[:2]] == [document_id, photo_id]
    assert "Final <mockups> & icons" in got[0].plain_text
    news = got[-1]
    assert "submitted work for «Design»" in news.plain_text
    assert "Here it is: https://example.com/preview" in news.plain_text
    assert "design-v2.pdf" in news.plain_text and "2 files" in news.plain_text
    assert any(label.startswith("Approve & release") for label in labels(news))
    assert "Request changes" in labels(news)

    # The files stay in the milestone's details, and a press there sends one again.
    details = await open_details(harness, ann, cid, "Design")
    assert "design-v2.pdf" in details.plain_text and "Photo 1" in details.plain_text
    before = len(file_sends(tg, ann))
    answer = await harness.press(ann, details, "📎 design-v2.pdf")
    assert answer.get("show_alert") is not True
    again = file_sends(tg, ann)[before:]
    assert [c.params["document"] for c in again] == [document_id]
    await harness.press(ann, message_by_id(tg, ann, details.message_id), "🖼 Photo")
    assert file_sends(tg, ann)[-1].params["photo"] == photo_id
    assert bad_calls(tg) == []


async def test_files_without_a_note_are_submitted_with_done(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "a.zip", mime_type="application/zip")
    await harness.pump()
    tg.send_document(bob, "b.zip", mime_type="application/zip")
    await harness.pump()
    ann_count = len(tg.messages(ann))
    answer = await harness.press(bob, harness.last(bob), "Done")
    assert answer.get("show_alert") is not True
    [ms, _] = await milestones(harness, cid, ann)
    assert ms.status is MilestoneStatus.SUBMITTED and ms.submission_note == ""
    got = tg.messages(ann)[ann_count:]
    assert len([m for m in got if m.file_id]) == 2
    assert any(label.startswith("Approve & release") for label in labels(got[-1]))
    assert bad_calls(tg) == []


async def test_a_resubmission_keeps_each_rounds_files_apart_in_the_details(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "first.pdf")
    await harness.pump()
    await harness.send(bob, "v1")
    await harness.press(ann, harness.last(ann), "Request changes")
    await harness.send(ann, "More contrast")
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "second.pdf")
    await harness.pump()
    await harness.send(bob, "v2")

    text = (await open_details(harness, ann, cid, "Design")).plain_text
    assert text.index("v1") < text.index("first.pdf") < text.index("More contrast") < text.index("v2")
    assert text.index("v2") < text.index("second.pdf")
    assert bad_calls(tg) == []


async def test_the_client_gets_the_files_exactly_once_when_senddocument_fails_once(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "spec.pdf")
    await harness.pump()
    document_id = tg.user_messages(bob)[-1].file_id
    tg.fail_next("sendDocument", 500)
    ann_count = len(tg.messages(ann))
    await harness.send(bob, "see the spec")
    await harness.app.bot_data["sender"].drain(timeout=20, retries=True)

    statuses = [c.status for c in tg.calls_of("sendDocument")]
    assert statuses == [500, 200]
    got = tg.messages(ann)[ann_count:]
    assert [m.file_id for m in got if m.file_id] == [document_id]  # once, not twice
    assert got[-1].file_id is None and "see the spec" in got[-1].plain_text  # the news still comes after it
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED
    assert bad_calls(tg) == []


async def test_more_files_than_a_submission_takes_are_refused_and_the_step_stays(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    for i in range(10):
        tg.send_document(bob, f"part{i}.pdf")
        await harness.pump()
    assert "10 files" in harness.last(bob).plain_text
    tg.send_document(bob, "part10.pdf")
    await harness.pump()
    assert "at most 10" in harness.last(bob).plain_text
    await harness.send(bob, "all parts")
    details = await svc(harness).milestone_details((await milestones(harness, cid, ann))[0].id, ann.id)
    assert [f.name for f in details.files] == [f"part{i}.pdf" for i in range(10)]
    assert bad_calls(tg) == []


async def test_a_photo_at_a_text_step_gets_a_clear_answer_and_the_step_stays(harness, people, tg):
    ann, bob, _ = people
    await setup_contract(harness, ann, bob)
    await harness.send(ann, "/addmilestone")
    assert "title" in harness.last(ann).plain_text
    count = len(tg.messages(ann))
    tg.send_photo(ann, caption="Design")
    await harness.pump()
    [answer] = tg.messages(ann)[count:]
    assert "title" in answer.plain_text and "text" in answer.plain_text
    asked = await harness.send(ann, "Design")  # the same step goes on
    assert "amount" in asked.plain_text

    # At the reason for changes too: a document is not a reason.
    await harness.send(ann, "/cancel")
    cid = (await svc(harness).contracts_of(ann.id))[0].id
    await add_milestone(harness, ann, "Logo", "100", "tomorrow")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund")
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "done")
    await harness.press(ann, harness.last(ann), "Request changes")
    count = len(tg.messages(ann))
    tg.send_document(ann, "notes.pdf")
    await harness.pump()
    [answer] = tg.messages(ann)[count:]
    assert "reason" in answer.plain_text
    await harness.send(ann, "Bigger")
    assert (await milestones(harness, cid, ann))[0].change_reason == "Bigger"
    assert bad_calls(tg) == []


async def test_stray_text_and_unknown_commands_get_a_hint_with_the_main_buttons(harness, people, tg):
    _, _, eve = people
    for typed in ("hello?", "/etc/passwd", "/frobnicate"):
        count = len(tg.messages(eve))
        tg.send_text(eve, typed)
        await harness.pump()
        [hint] = tg.messages(eve)[count:]
        assert "\n" not in hint.plain_text.strip(), hint.plain_text  # one line
        assert "/help" in hint.plain_text
        assert labels(hint) == ["New contract", "My contracts"]
    count = len(tg.messages(eve))
    tg.send_document(eve, "cv.pdf")
    await harness.pump()
    [hint] = tg.messages(eve)[count:]
    assert "Submit work" in hint.plain_text
    assert bad_calls(tg) == []


async def test_groups_stay_quiet_unless_the_bot_is_addressed(harness, people, tg):
    ann, _, _ = people
    group = tg.group(-100654, "Chat")
    for typed in ("hello everyone", "/other_bots_command", "/etc/passwd"):
        tg.send_text(ann, typed, chat=group)
    tg.send_photo(ann, chat=group)
    await harness.pump()
    assert tg.messages(group) == []
    tg.send_text(ann, "/frobnicate@milestone_test_bot", chat=group)
    await harness.pump()
    [hint] = tg.messages(group)
    assert "/link" in hint.plain_text
    assert bad_calls(tg) == []


async def test_a_file_sent_after_submitting_is_not_silently_dropped(harness, people, tg, caplog):
    ann, bob, _ = people
    await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "done")
    count = len(tg.messages(bob))
    with caplog.at_level(logging.ERROR):
        tg.send_document(bob, "late.pdf")
        await harness.pump()
    [hint] = tg.messages(bob)[count:]
    assert "Submit work" in hint.plain_text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_stranger_cannot_submit_files_for_someone_elses_milestone(harness, people, tg):
    ann, bob, eve = people
    cid, design = await funded(harness, ann, bob)
    asked = await harness.send(eve, "/start")
    answer = await press_forged(harness, eve, asked, f"m:sub:{design}")
    assert answer["show_alert"] is True
    count = len(tg.messages(ann))
    tg.send_document(eve, "malware.pdf")
    await harness.pump()
    assert all(m.file_id is None for m in tg.messages(ann)[count:])
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE


def sticker_from(user) -> dict:
    """A sticker message body, as Telegram sends one (the fake has no helper for stickers)."""
    return {
        "message": {
            "message_id": 90_000,
            "date": int(time.time()),
            "chat": user.chat_dict(),
            "from": user.to_dict(),
            "sticker": {
                "file_id": "CAACAgIAAxkBAAIsticker",
                "file_unique_id": "AgADsticker",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        }
    }


async def test_a_sticker_while_submitting_gets_a_clear_answer_and_the_files_stay(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_photo(bob, caption="The hero image")
    await harness.pump()
    count = len(tg.messages(bob))
    tg.send_update(sticker_from(bob))
    await harness.pump()
    [answer] = tg.messages(bob)[count:]
    assert "documents and photos" in answer.plain_text and "note" in answer.plain_text
    await harness.send(bob, "done")
    details = await svc(harness).milestone_details((await milestones(harness, cid, ann))[0].id, ann.id)
    assert [(f.kind, f.caption, f.submission) for f in details.files] == [("photo", "The hero image", 1)]
    assert bad_calls(tg) == []


async def test_a_stranger_cannot_have_a_submitted_file_sent_to_them(harness, people, tg):
    ann, bob, eve = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "contract-draft.pdf")
    await harness.pump()
    await harness.send(bob, "done")
    [stored] = (await svc(harness).milestone_details((await milestones(harness, cid, ann))[0].id, ann.id)).files
    hello = await harness.send(eve, "/start")
    answer = await press_forged(harness, eve, hello, f"fl:{stored.id}")
    assert answer["show_alert"] is True and "Only the client and the freelancer" in answer["text"]
    assert file_sends(tg, eve) == []
    # Bob, a party, may open it again.
    answer = await press_forged(harness, bob, await open_card(harness, bob, cid), f"fl:{stored.id}")
    assert answer.get("show_alert") is not True
    assert [c.params["document"] for c in file_sends(tg, bob)] == [stored.file_id]


async def test_pressing_submit_work_again_keeps_the_files_already_sent(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await funded(harness, ann, bob)
    await harness.press(bob, harness.last(bob), "Submit work")
    tg.send_document(bob, "keep-me.pdf")
    await harness.pump()
    await harness.press(bob, await open_card(harness, bob, cid), "Submit work")
    assert "1 attached already" in harness.last(bob).plain_text
    await harness.send(bob, "done")
    details = await svc(harness).milestone_details((await milestones(harness, cid, ann))[0].id, ann.id)
    assert [f.name for f in details.files] == ["keep-me.pdf"]
