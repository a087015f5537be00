"""The escrow agent's desk (issue 14, PRODUCT §7): operators see money held and what is owed, mark payouts
and refunds done with a reference (the party is told), export the ledger as CSV; payout details are theirs
alone; everyone else gets nothing from the desk's commands."""

from __future__ import annotations

import csv
import io

import pytest

from bot import desk
from domain.model import LedgerKind

from .helpers import (
    add_milestone,
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    ledger_sums,
    milestones,
    open_card,
    setup_contract,
)
from .test_telegram_payments import PROVIDER, checkout, invoice_for, money_harness

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

IBAN = "DE89 3704 0044 0532 0130 00, Bob Builder"


@pytest.fixture
async def h(tg, db_url, clock):
    harness = await money_harness(tg, db_url, clock, payment_provider_token=PROVIDER)
    yield harness
    await harness.app.shutdown()
    await harness.app.bot_data["engine"].dispose()


async def set_payout_details(h, user, details: str):
    menu = await h.send(user, "/settings")
    await h.press(user, menu, "Payout details")
    return await h.send(user, details)


async def funded_and_released(h, ann, bob, tg) -> int:
    """Bob's payout details given; Design ($1,500.00) paid by invoice, submitted and approved."""
    await set_payout_details(h, bob, IBAN)
    cid = await setup_contract(h, ann, bob)
    await add_milestone(h, ann, "Design", "1500", "in 2 weeks")
    query, answer = await checkout(h, ann, await invoice_for(h, ann, cid))
    assert answer["ok"]
    tg.complete_payment(ann, query)
    await h.pump()
    await h.press(bob, h.last(bob), "Submit work")
    await h.send(bob, "done")
    await h.press(ann, h.last(ann), "Approve & release")
    answer = await h.press(ann, h.last(ann), "Release")
    assert answer["text"].startswith("Approved: the escrow agent owes the freelancer the payout")
    return cid


async def test_fund_release_payout_marked_done_and_both_told(h, people, tg, op):
    ann, bob, _ = people
    cid = await funded_and_released(h, ann, bob, tg)
    [design] = await milestones(h, cid, ann)
    text = (await h.send(op, "/desk")).plain_text
    assert "USD: held $1,500.00 (in escrow $0.00, payouts owed $1,500.00, refunds owed $0.00)" in text
    assert f"p{design.id} Payout $1,500.00 to Bob (id {bob.id}) for «Design» in «Website redesign»" in text
    assert f"Payout details: {IBAN}" in text

    done = await h.send(op, f"/paid p{design.id} SEPA-2026-0042")
    assert "Recorded: $1,500.00 for «Design» in «Website redesign» sent, reference SEPA-2026-0042" in done.plain_text
    told = tg.last_message(bob).plain_text
    assert "The payout of $1,500.00 for «Design» in «Website redesign» was sent to you." in told
    assert "Reference: SEPA-2026-0042" in told
    assert (
        "The escrow agent sent the payout of $1,500.00 for «Design» in «Website redesign» to Bob."
        in tg.last_message(ann).plain_text
    )
    again = await h.send(op, f"/paid p{design.id} SEPA-2026-0042")
    assert "Nothing is owed there: it was marked done already." in again.plain_text
    text = (await h.send(op, "/desk")).plain_text
    assert "payouts owed $0.00" in text and "Nothing: every release and refund is paid out." in text
    sums = await ledger_sums(h, cid)
    assert sums[LedgerKind.PAYOUT] + 0 == sums[LedgerKind.RELEASE] == 150_000  # paid out + owed = released
    assert sums[LedgerKind.FUND] == sums[LedgerKind.RELEASE] + sums[LedgerKind.REFUND]  # nothing in escrow
    card = (await open_card(h, ann, cid)).plain_text
    assert "💰 Funded $1,500.00" in card and "Recorded" not in card  # real money in telegram mode
    assert not bad_calls(tg)


async def test_a_fiat_refund_is_owed_to_the_client_until_an_operator_sends_it(h, people, tg, op):
    ann, bob, _ = people
    cid = await setup_contract(h, ann, bob)
    await add_milestone(h, ann, "Design", "1500", "in 2 weeks")
    query, _ = await checkout(h, ann, await invoice_for(h, ann, cid))
    tg.complete_payment(ann, query)
    await h.pump()
    card = await open_card(h, bob, cid)
    await h.press(bob, card, "Refund «Design»")
    await h.press(bob, h.last(bob), "Refund")
    [design] = await milestones(h, cid, ann)
    text = (await h.send(op, "/desk")).plain_text
    assert f"r{design.id} Refund $1,500.00 to Ann (id {ann.id})" in text
    await h.send(op, f"/paid r{design.id} REFUND-77")
    assert (
        "The refund of $1,500.00 for «Design» in «Website redesign» was sent to you." in tg.last_message(ann).plain_text
    )
    assert not tg.calls_of("refundStarPayment"), "fiat refunds are the operator's"


async def test_operator_commands_answer_others_as_unknown_commands(h, people, tg, op):
    ann, bob, _ = people
    await funded_and_released(h, ann, bob, tg)
    unknown = (await h.send(ann, "/nosuchthing")).plain_text.replace("/nosuchthing", "/X")
    for command in ("/desk", "/paid p1 REF", "/ledgercsv"):
        for user in (ann, bob):
            reply = (await h.send(user, command)).plain_text
            assert reply.replace(command.split()[0], "/X") == unknown, (command, reply)
    await desk.settle(h.app)
    assert not tg.calls_of("sendDocument")
    assert not any(IBAN in m.plain_text for user in (ann, bob) for m in tg.messages(user))


async def test_payout_details_are_shown_to_operators_only(h, people, tg, op):
    ann, bob, eve = people
    menu = await set_payout_details(h, bob, IBAN)
    assert "Payout details saved." in menu.plain_text and "given" in menu.plain_text
    await funded_and_released(h, ann, bob, tg)
    for user in (ann, bob, eve):
        assert not any("DE89" in m.plain_text for m in tg.messages(user)), user.first_name
    assert "DE89" in (await h.send(op, "/desk")).plain_text


async def test_the_ledger_exports_as_csv(h, people, tg, op):
    ann, bob, _ = people
    cid = await funded_and_released(h, ann, bob, tg)
    [design] = await milestones(h, cid, ann)
    await h.send(op, f"/paid p{design.id} =HYPERLINK(evil)")
    await h.send(op, "/ledgercsv")
    await desk.settle(h.app)
    [call] = tg.calls_of("sendDocument")
    assert call.status == 200 and call.params["document"]["filename"].endswith(".csv")
    [document] = [m for m in tg.messages(op) if m.media and "document" in m.media]
    data = tg.uploads[document.file_id]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["kind"], r["amount_minor_units"], r["milestone_title"]) for r in rows] == [
        ("fund", "150000", "Design"),
        ("release", "150000", "Design"),
        ("payout", "150000", "Design"),
    ]
    assert rows[0]["telegram_payment_charge_id"].startswith("tg_charge_")
    assert rows[0]["provider_payment_charge_id"].startswith("prov_")
    assert rows[0]["payments"] == "telegram" and rows[0]["currency"] == "USD"
    assert rows[2]["reference"] == "'=HYPERLINK(evil)", "a reference can't run as a spreadsheet formula"
    assert not bad_calls(tg)
