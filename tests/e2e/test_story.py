"""The seed story end to end: two people drive the real bot process through the strict fake Bot API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from testkit.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from testkit.process import TOKEN, BotProcess
from tests.e2e.conftest import forge_press

pytestmark = pytest.mark.e2e

BOT = "milestone_test_bot"
COMMANDS = ["start", "help", "newcontract", "contracts", "milestones", "addmilestone", "settings", "cancel"]
ENDED = "This contract has ended; it accepts no more actions."


# ----- helpers: what a person does in the chat -----------------------------------------------------------------
def due_in(days: int) -> str:
    """A due date as the user types it; the bot's default zone is UTC."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def fresh(tg: FakeTelegram, message: FakeMessage) -> FakeMessage:
    """The current version of a bot message (after edits)."""
    return next(m for m in tg.messages(message.chat_id) if m.message_id == message.message_id)


def data_of(message: FakeMessage, prefix: str) -> str:
    """The callback data of the button whose label starts with `prefix`."""
    found = [d for label, d in message.buttons if label.startswith(prefix) and d]
    assert found, f"no button {prefix!r} on {message.plain_text[:60]!r}: {message.buttons}"
    return found[0]


def labels(message: FakeMessage) -> list[str]:
    return [label for label, _ in message.buttons]


def became_card(tg: FakeTelegram, message: FakeMessage) -> FakeMessage:
    """The pressed message once it shows the card (the live card elsewhere in the chat is edited too, so
    "the next message that looks like a card" may be that one)."""

    def shows_card() -> FakeMessage | None:
        now = fresh(tg, message)
        return now if "you are the client" in now.plain_text else None

    return tg.wait_for(shows_card)


class LiveCards:
    """One live card per chat (PRODUCT §3): once what a step caused is delivered, each person's chat
    holds one message with a card's buttons (its Refresh) from the first time it shows a card on; a card
    replaced by a newer one was retired (its buttons gone)."""

    def __init__(self, tg: FakeTelegram, *people: FakeUser) -> None:
        self.tg, self.people = tg, people
        self.seen: set[int] = set()

    def cards(self, user: FakeUser) -> int:
        return sum(1 for m in self.tg.messages(user) if any(d and d.startswith("c:rf:") for _, d in m.buttons))

    def card(self, user: FakeUser) -> FakeMessage:
        (found,) = [m for m in self.tg.messages(user) if any(d and d.startswith("c:rf:") for _, d in m.buttons)]
        return found

    def check(self) -> None:
        for user in self.people:
            want = 1 if user.id in self.seen else None
            self.tg.wait_for(
                lambda user=user, want=want: self.cards(user) == want if want else self.cards(user) <= 1, timeout=10
            )
            if self.cards(user) == 1:
                self.seen.add(user.id)


def press_ok(
    tg: FakeTelegram, user: FakeUser, message: FakeMessage, label: str, answer: str | None = None, chat=None
) -> dict:
    """Press a visible button; the spinner must stop with `answer` (if given) and no alert."""
    query = tg.press(user, message, label, chat=chat)
    got = tg.wait_for_answer(query)
    if answer is not None:
        assert got["text"] == answer, got
        assert not got["show_alert"], got
    return got


def refused(tg: FakeTelegram, query: str, reason: str) -> None:
    got = tg.wait_for_answer(query)
    assert got["text"] == reason, got
    assert got["show_alert"] is True, got


def create_contract(
    tg: FakeTelegram, user: FakeUser, title: str, currency: str = "USD", role: str = "I am the client"
) -> str:
    """/newcontract → title → currency button → role → Create; returns the invite payload."""
    mark = tg.mark()
    tg.send_text(user, "/newcontract")
    tg.wait_for_message(user, "What is its title?", after=mark)
    mark = tg.mark()
    tg.send_text(user, title)
    asked = tg.wait_for_message(user, "Which currency?", after=mark)
    mark = tg.mark()
    press_ok(tg, user, asked, currency)
    asked = tg.wait_for_message(user, "Which side are you on?", after=mark)
    assert asked.plain_text.startswith(f"Currency: {currency}.")
    mark = tg.mark()
    press_ok(tg, user, asked, role)
    summary = tg.wait_for_message(user, f"New contract {title} in {currency}", after=mark)
    mark = tg.mark()
    press_ok(tg, user, summary, "Create", "Contract created.")
    done = tg.wait_for_message(user, "Forward this invite link", after=mark)
    assert f"Contract {title} created." in done.plain_text
    found = re.search(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)", done.plain_text)
    assert found, done.plain_text
    return found.group(1)


def join(tg: FakeTelegram, joiner: FakeUser, creator: FakeUser, payload: str, title: str) -> FakeMessage:
    """The other party opens the deep link and accepts; both are told. Returns the joiner's card."""
    mark = tg.mark()
    tg.send_text(joiner, f"/start {payload}")
    invite = tg.wait_for_message(joiner, "invites you to the contract", after=mark)
    assert f"{creator.first_name} invites you to the contract {title}" in invite.plain_text
    assert "as the freelancer" in invite.plain_text
    assert labels(invite) == ["Accept", "Decline"]
    mark = tg.mark()
    press_ok(tg, joiner, invite, "Accept", "You joined the contract.")
    card = tg.wait_for_message(joiner, "you are the freelancer", after=mark)
    assert card.message_id == invite.message_id  # the invite became the card: edited in place
    told = tg.wait_for_message(creator, f"{joiner.first_name} accepted the invite: «{title}» is active.", after=mark)
    assert labels(told) == ["Open contract"]
    return card


def add_milestone(tg: FakeTelegram, user: FakeUser, title: str, amount: str, due: str) -> FakeMessage:
    """/addmilestone → title → amount → due date → Skip → Save; returns the card the summary became."""
    mark = tg.mark()
    tg.send_text(user, "/addmilestone")
    tg.wait_for_message(user, "Send the milestone's title", after=mark)
    mark = tg.mark()
    tg.send_text(user, title)
    tg.wait_for_message(user, "Send the amount in", after=mark)
    mark = tg.mark()
    tg.send_text(user, amount)
    tg.wait_for_message(user, "Send the due date", after=mark)
    return finish_milestone(tg, user, due, title)


def finish_milestone(tg: FakeTelegram, user: FakeUser, due: str, title: str) -> FakeMessage:
    mark = tg.mark()
    tg.send_text(user, due)
    asked = tg.wait_for_message(user, "Send a description of the work", after=mark)
    mark = tg.mark()
    press_ok(tg, user, asked, "Skip")
    summary = tg.wait_for_message(user, "Milestone summary", after=mark)
    assert f"Title: {title}" in summary.plain_text
    assert "Description: —" in summary.plain_text
    mark = tg.mark()
    press_ok(tg, user, summary, "Save", "Saved.")
    card = tg.wait_for_message(user, "you are the client", after=mark)
    assert card.message_id == summary.message_id  # the summary became the card
    return card


def milestone_ids(card: FakeMessage) -> list[int]:
    """Ids of the not-funded milestones, in card order, read from their Edit buttons (m:edt:<id>)."""
    return [int(d.split(":")[2]) for _, d in card.buttons if d and d.startswith("m:edt:")]


def contract_id(card: FakeMessage) -> int:
    return int(data_of(card, "History").split(":")[2])


def submit(
    tg: FakeTelegram, freelancer: FakeUser, client: FakeUser, notice: FakeMessage, ms_title: str, note: str | None
) -> FakeMessage:
    """The freelancer presses Submit work on a notification, sends a note (or Skip); returns the client's notice."""
    mark = tg.mark()
    press_ok(tg, freelancer, notice, f"Submit work «{ms_title}»")
    asked = tg.wait_for_message(freelancer, f"Submitting work for {ms_title}.", after=mark)
    mark = tg.mark()
    if note is None:
        press_ok(tg, freelancer, asked, "Skip", "Submitted.")
    else:
        tg.send_text(freelancer, note)
    tg.wait_for_message(freelancer, "Work submitted: the client is asked to review it.", after=mark)
    told = tg.wait_for_message(client, f"{freelancer.first_name} submitted work for «{ms_title}»", after=mark)
    if note:
        assert f"Note: {note}" in told.plain_text
    assert labels(told)[:2] == [f"Approve & release «{ms_title}»", "Request changes"]
    return told


def assert_clean_run(tg: FakeTelegram, bot: BotProcess, forbidden_ok: set[int] = frozenset()) -> None:
    """No call the strict fake rejected; 403 only for chats of people who blocked the bot; no token in logs."""
    bad = []
    for call in tg.calls:
        if call.status == 200:
            continue
        if call.status == 499 and call.method == "getUpdates":  # a long poll cut short by shutdown
            continue
        if call.status == 403 and int(call.params.get("chat_id", 0)) in forbidden_ok:
            continue
        bad.append(f"{call.method} -> {call.status} {call.description}: {str(call.params)[:200]}")
    assert not bad, "calls rejected by the Bot API:\n" + "\n".join(bad)
    log = bot.output()
    assert TOKEN not in log and TOKEN.split(":", 1)[1] not in log, "the bot token leaked into the output"
    assert "Unhandled error" not in log and "Traceback" not in log, bot.tail()


def people(tg: FakeTelegram) -> tuple[FakeUser, FakeUser]:
    return tg.user(1001, "Ann", "ann_client"), tg.user(2002, "Bob", "bob_dev")


# ----- 1 + 5 + 6: the whole story ---------------------------------------------------------------------------------
def test_seed_story(tg: FakeTelegram, bot: BotProcess):
    ann, bob = people(tg)
    title = "Site & <App> 🚀"  # HTML-special characters and an emoji, kept exactly and shown safely

    # The command menu was published at start-up.
    assert [c["command"] for c in tg.commands()] == COMMANDS

    live = LiveCards(tg, ann, bob)
    payload = create_contract(tg, ann, title)
    join(tg, bob, ann, payload, title)
    live.check()

    plan = [("Design", "1,500", "$1,500.00"), ("Build", "250.50", "$250.50"), ("Launch", "99", "$99.00")]
    for days, (name, typed, _) in enumerate(plan, start=10):
        mark = tg.mark()
        card = add_milestone(tg, ann, name, typed, due_in(days))
        tg.wait_for_message(bob, f"Ann added milestone «{name}»", after=mark)
        live.check()
    assert "Remaining $1,849.50" in card.plain_text
    ids = milestone_ids(card)
    assert len(ids) == 3
    first, second, third = ids
    # Only the next milestone has an Activate button.
    assert [lb for lb in labels(card) if lb.startswith("Activate")] == ["Activate & fund «Design»"]

    # R1: the 2nd can't be activated before the 1st (a forged press: the button isn't shown).
    refused(
        tg,
        forge_press(tg, ann, card, f"m:act:{second}"),
        "Milestones are activated in the order they were created: activate «Design» first.",
    )

    # Activate & fund the first.
    mark = tg.mark()
    press_ok(
        tg,
        ann,
        card,
        "Activate & fund «Design»",
        "Activated; funding recorded (the bot holds no money). The freelancer is told.",
    )
    card = tg.wait_for_message(ann, "🟢 active (funded)", after=mark)
    assert "In escrow $1,500.00" in card.plain_text and "Funded $1,500.00" in card.plain_text
    notice = tg.wait_for_message(bob, "Ann activated and funded «Design» ($1,500.00)", after=mark)
    assert "Submit work «Design»" in labels(notice)
    live.check()

    # R2: nothing else is activated while the first is funded.
    refused(tg, forge_press(tg, ann, card, f"m:act:{second}"), "Release «Design» before activating the next milestone.")

    # Submit → request changes (with a reason) → resubmit → approve & release.
    told = submit(tg, bob, ann, notice, "Design", "Mockups: https://example.com/d?v=1&x=<2>")
    first_review = told
    mark = tg.mark()
    press_ok(tg, ann, told, "Request changes")
    asked = tg.wait_for_message(ann, "What should be changed in Design?", after=mark)
    assert labels(asked) == ["Cancel"]
    mark = tg.mark()
    tg.send_text(ann, "Logo <bigger> & bolder")
    tg.wait_for_message(ann, "Change request sent to the freelancer.", after=mark)
    back = tg.wait_for_message(bob, "Ann requested changes to «Design»", after=mark)
    assert "Reason: Logo <bigger> & bolder" in back.plain_text
    live.check()
    told = submit(tg, bob, ann, back, "Design", "v2 with a bigger logo")
    live.check()

    mark = tg.mark()
    press_ok(tg, ann, told, "Approve & release «Design»")  # a money tap asks first (issue 12)
    asked = tg.wait_for_message(ann, "Release $1,500.00 to Bob for «Design»?", after=mark)
    press_ok(
        tg,
        ann,
        asked,
        "Release",
        "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives.",
    )
    card = became_card(tg, asked)
    assert card.message_id == told.message_id  # the notification became the card
    assert "✅ released" in card.plain_text and "revisions: 1" in card.plain_text
    assert "Released $1,500.00" in card.plain_text and "In escrow $0.00" in card.plain_text
    assert "Remaining $349.50" in card.plain_text
    tg.wait_for_message(bob, "Ann approved «Design» and released $1,500.00", after=mark)
    live.check()

    # The next milestones, one at a time, through to the last release.
    for name, _, shown in plan[1:]:
        mark = tg.mark()
        press_ok(
            tg,
            ann,
            card,
            f"Activate & fund «{name}»",
            "Activated; funding recorded (the bot holds no money). The freelancer is told.",
        )
        notice = tg.wait_for_message(bob, f"Ann activated and funded «{name}» ({shown})", after=mark)
        told = submit(tg, bob, ann, notice, name, None if name == "Build" else "All live.")
        mark = tg.mark()
        press_ok(tg, ann, told, f"Approve & release «{name}»")
        asked = tg.wait_for_message(ann, f"Release {shown} to Bob for «{name}»?", after=mark)
        press_ok(
            tg,
            ann,
            asked,
            "Release",
            "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives.",
        )
        card = became_card(tg, asked)
        tg.wait_for_message(bob, f"Ann approved «{name}» and released {shown}", after=mark)
        live.check()

    text = card.plain_text
    assert "Funded $1,849.50 · In escrow $0.00" in text
    assert "Released $1,849.50 (received $0.00, unconfirmed $1,849.50) · Refunded $0.00 · Remaining $0.00" in text
    assert text.count("✅ released") == 3
    assert "All milestones are released. Keep the contract open for more work, or end it?" in text
    assert "Keep contract open" in labels(card) and "End contract" in labels(card)
    assert not [lb for lb in labels(card) if lb.startswith("Activate")]

    # Keep contract open ... and later End contract, confirmed.
    mark = tg.mark()
    press_ok(tg, ann, card, "Keep contract open", "The contract stays open: add the next milestone when you're ready.")
    tg.wait_for_message(bob, f"Ann keeps «{title}» open for more milestones.", after=mark)
    card = fresh(tg, card)
    assert "Status: active" in card.plain_text
    live.check()

    # Ann starts one more milestone, but ends the contract before she saves it.
    mark = tg.mark()
    tg.send_text(ann, "/addmilestone")
    asked = tg.wait_for_message(ann, "Send the milestone's title", after=mark)
    for typed, prompt in (
        ("Extra", "Send the amount in"),
        ("10", "Send the due date"),
        (due_in(20), "Send a description"),
    ):
        mark = tg.mark()
        tg.send_text(ann, typed)
        asked = tg.wait_for_message(ann, prompt, after=mark)
    mark = tg.mark()
    press_ok(tg, ann, asked, "Skip")
    pending = tg.wait_for_message(ann, "Milestone summary", after=mark)

    mark = tg.mark()
    press_ok(tg, ann, card, "End contract")
    confirm = tg.wait_for_message(ann, f"End {title}?", after=mark)
    assert labels(confirm) == ["End contract now", "Back"]
    mark = tg.mark()
    press_ok(tg, ann, confirm, "End contract now", "The contract is ended.")
    card = tg.wait_for_message(ann, "Status: ended", after=mark)
    assert labels(card) == ["Details", "History", "Refresh"]  # no action buttons on an ended contract
    ended = tg.wait_for_message(bob, f"Ann ended «{title}».", after=mark)
    assert labels(ended) == ["Open contract"]
    live.check()
    assert live.seen == {ann.id, bob.id}  # both had a card, and kept one

    # A later press (a stale button from before) is refused, for both parties; nothing is saved.
    mark = tg.mark()
    refused(tg, tg.press(ann, pending, "Save"), ENDED)
    tg.wait_for_message(ann, f"Not saved: {ENDED}", after=mark)
    mark = tg.mark()
    tg.send_text(ann, "/milestones")
    shown = tg.wait_for_message(ann, "Status: ended", after=mark)
    assert "Extra" not in shown.plain_text and shown.plain_text.count("✅ released") == 3
    refused(tg, tg.press(ann, first_review, "Approve & release"), ENDED)
    refused(tg, tg.press(bob, notice, "Submit work"), ENDED)
    mark = tg.mark()
    tg.send_text(ann, "/addmilestone")
    tg.wait_for_message(ann, "You have no active contract yet.", after=mark)

    # The history keeps every step (R14). (/milestones, and the refused presses on old news, showed the card
    # anew: the card before each was retired; the live one is the last shown.)
    live.check()
    assert fresh(tg, card).buttons == []
    mark = tg.mark()
    press_ok(tg, ann, live.card(ann), "History")
    history = tg.wait_for_message(ann, f"History of {title} (page 1 of 2)", after=mark)
    shown = history.plain_text
    mark = tg.mark()
    press_ok(tg, ann, history, "▶")
    shown += tg.wait_for_message(ann, f"History of {title} (page 2 of 2)", after=mark).plain_text
    for line in (
        "Ann created the contract",
        "Bob joined",
        "Ann activated & recorded as funded «Design»",
        "Ann requested changes to «Design»: Logo <bigger> & bolder",
        "Ann approved & recorded the release of «Launch»",
        "Ann kept the contract open",
        "Ann ended the contract",
    ):
        assert line in shown, shown

    assert_clean_run(tg, bot)


# ----- 2: a linked group --------------------------------------------------------------------------------------------
def test_group_notifications_and_strangers(tg: FakeTelegram, bot: BotProcess):
    ann, bob = people(tg)
    eve = tg.user(3003, "Eve", "eve_stranger")
    team = tg.group(-1001, "Team")
    title = "Team project"
    join(tg, bob, ann, create_contract(tg, ann, title), title)

    mark = tg.mark()
    tg.send_text(ann, "/link", chat=team)
    linked = tg.wait_for_message(team, f"This group now gets the news of «{title}».", after=mark)
    assert "group view" in linked.plain_text
    tg.wait_for_message(bob, f"Ann linked «{title}» to a group chat.", after=mark)

    mark = tg.mark()
    add_milestone(tg, ann, "Kickoff", "300", due_in(5))
    news = tg.wait_for_message(team, "Ann added milestone «Kickoff» ($300.00", after=mark)
    assert "Activate & fund «Kickoff»" in labels(news)

    # A stranger (and the wrong party) may not press the client's button in the group.
    refused(tg, tg.press(eve, news, "Activate & fund", chat=team), f"This button is for the client of «{title}».")
    refused(tg, tg.press(bob, news, "Activate & fund", chat=team), f"This button is for the client of «{title}».")
    mark = tg.mark()
    tg.send_text(ann, "/milestones")
    card = tg.wait_for_message(ann, "you are the client", after=mark)
    assert "⚪ not funded" in card.plain_text and "In escrow $0.00" in card.plain_text

    # The client may, in the group; the news then carries the freelancer's button, refused to the stranger.
    mark = tg.mark()
    press_ok(
        tg,
        ann,
        news,
        "Activate & fund",
        "Activated; funding recorded (the bot holds no money). The freelancer is told.",
        chat=team,
    )
    funded = tg.wait_for_message(team, "Ann activated and funded «Kickoff»", after=mark)
    tg.wait_for_message(bob, "Ann activated and funded «Kickoff»", after=mark)
    refused(tg, tg.press(eve, funded, "Submit work", chat=team), f"This button is for the freelancer of «{title}».")

    # The freelancer's press in the group continues in his private chat.
    mark = tg.mark()
    press_ok(tg, bob, funded, "Submit work", chat=team)
    tg.wait_for_message(bob, "Submitting work for Kickoff.", after=mark)

    assert_clean_run(tg, bot)


# ----- 3: a restart in the middle of a conversation ------------------------------------------------------------
def test_restart_mid_add_milestone(tg: FakeTelegram, bot: BotProcess):
    ann, bob = people(tg)
    title = "Restart-proof"
    join(tg, bob, ann, create_contract(tg, ann, title), title)

    mark = tg.mark()
    tg.send_text(ann, "/addmilestone")
    tg.wait_for_message(ann, "Send the milestone's title", after=mark)
    mark = tg.mark()
    tg.send_text(ann, "Survives restarts")
    tg.wait_for_message(ann, "Send the amount in USD", after=mark)
    mark = tg.mark()
    tg.send_text(ann, "777.70")
    tg.wait_for_message(ann, "Send the due date", after=mark)

    bot.restart()  # SIGTERM, wait for a clean exit, a new process on the same database

    card = finish_milestone(tg, ann, due_in(9), "Survives restarts")
    assert "Survives restarts — $777.70" in card.plain_text
    assert "Activate & fund «Survives restarts»" in labels(card)
    assert bot.starts == 2 and bot.exit_codes == [0]
    assert_clean_run(tg, bot)


# ----- 4: a party who blocked the bot ----------------------------------------------------------------------------------
def test_blocked_party_is_reported_and_state_stands(tg: FakeTelegram, bot: BotProcess):
    ann, bob = people(tg)
    title = "Quiet Bob"
    join(tg, bob, ann, create_contract(tg, ann, title), title)
    tg.block_user(bob)

    mark = tg.mark()
    card = add_milestone(tg, ann, "Unheard", "50", due_in(3))
    cid = contract_id(card)
    hint = tg.wait_for_message(ann, "I couldn't message Bob", after=mark)
    assert (
        f"Share this link with them so they can open the contract: https://t.me/{BOT}?start=c{cid}" in hint.plain_text
    )
    assert not [m for m in tg.messages(bob) if m.seq > mark]
    assert any(c.status == 403 and int(c.params.get("chat_id", 0)) == bob.id for c in tg.calls_of("sendMessage"))

    # The bot keeps running and the milestone stands; the next event to Bob is reported again.
    assert bot.running
    mark = tg.mark()
    press_ok(
        tg,
        ann,
        card,
        "Activate & fund «Unheard»",
        "Activated; funding recorded (the bot holds no money). The freelancer is told.",
    )
    tg.wait_for_message(ann, "I couldn't message Bob", after=mark)
    card = fresh(tg, card)
    assert "Unheard — $50.00" in card.plain_text and "🟢 active (funded)" in card.plain_text

    # Bob comes back through the shared link and sees the contract as it is.
    mark = tg.mark()
    tg.send_text(bob, f"/start c{cid}")
    seen = tg.wait_for_message(bob, "you are the freelancer", after=mark)
    assert "Unheard — $50.00" in seen.plain_text and "Submit work «Unheard»" in labels(seen)

    assert_clean_run(tg, bot, forbidden_ok={bob.id})
