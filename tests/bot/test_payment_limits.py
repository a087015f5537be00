"""Telegram Payments' per-currency amount limits (issue 14, PRODUCT §7), telegram mode with a provider token:
loaded at start from PAYMENT_CURRENCIES_URL (here the fake's /currencies.json, in-process or over loopback
HTTP, never the Internet) and daily; an amount outside them is refused with the range where it is set (a
milestone added or edited, a proposal accepted, a bonus) and before an invoice is sent, and the person goes
on; a contract's currency must be in the file. A load that fails logs a warning and keeps what was loaded
(nothing at first: amounts unchecked)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot import payment_limits
from domain.actions import Action
from domain.errors import InvalidInput
from domain.model import MilestoneStatus
from testkit.harness import Harness, make_app

from .helpers import (
    add_milestone,
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    milestones,
    open_card,
    setup_contract,
)
from .test_bonus_payments import invoices, submitted
from .test_telegram_payments import PROVIDER, invoice_for, money_harness

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

# As Telegram publishes them: USD from $1.00 to $10,000.00; JPY with 2 decimals (the bot counts none); no CHF.
LIMITS = {
    "USD": {
        "code": "USD",
        "title": "United States Dollar",
        "symbol": "$",
        "native": "$",
        "thousands_sep": ",",
        "decimal_sep": ".",
        "symbol_left": True,
        "space_between": False,
        "exp": 2,
        "min_amount": "100",
        "max_amount": "1000000",
    },
    "EUR": {"code": "EUR", "exp": 2, "min_amount": "93", "max_amount": "930000"},
    "JPY": {"code": "JPY", "exp": 2, "min_amount": "15000", "max_amount": "150000000"},
}
USD_RANGE = "Amount must be from $1.00 to $10,000.00: the range Telegram Payments takes in USD today."
LOG = "bot.payment_limits"


def usd_limits(low: int, high: int) -> dict:
    return {**LIMITS, "USD": {**LIMITS["USD"], "min_amount": str(low), "max_amount": str(high)}}


def loaded(h: Harness) -> payment_limits.LatestLimits:
    limits = payment_limits.of(h.app)
    assert limits is not None
    return limits


async def close(h: Harness) -> None:
    await h.app.shutdown()
    await h.app.bot_data["engine"].dispose()


@pytest.fixture
async def fiat(tg, db_url, clock):
    tg.set_currencies(LIMITS)
    h = await money_harness(tg, db_url, clock, payment_provider_token=PROVIDER)
    yield h
    await close(h)


@pytest.fixture
def http_fake(tg):
    """The fake's HTTP server, for the limits fetched over loopback HTTP (the Bot API stays in-process)."""
    tg.start()
    yield tg
    tg.stop()


# ----- where an amount is set -----------------------------------------------------------------------------
async def test_an_amount_above_the_max_is_refused_with_the_range_and_one_inside_is_invoiced(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await fiat.send(ann, "/addmilestone")
    await fiat.send(ann, "Design")
    refused = await fiat.send(ann, "20,000")
    assert refused.plain_text.startswith(USD_RANGE + "\nSend the amount in USD"), refused.plain_text
    refused = await fiat.send(ann, "0.50")
    assert refused.plain_text.startswith(USD_RANGE), refused.plain_text
    asked = await fiat.send(ann, "1500")  # the form goes on
    assert "due date" in asked.plain_text
    asked = await fiat.send(ann, "in 2 weeks")
    await fiat.press(ann, asked, "Skip")
    answer = await fiat.press(ann, fiat.last(ann), "Save")
    assert answer["text"] == "Saved."
    [design] = await milestones(fiat, cid, ann)
    assert design.amount == 150_000

    asked = tg.invoice(await invoice_for(fiat, ann, cid))
    assert (asked["currency"], asked["total_amount"], asked["provider_token"]) == ("USD", 150_000, PROVIDER)
    assert tg.currencies_requests == 1 and not bad_calls(tg)


async def test_the_bounds_themselves_are_taken(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Least", "1", "in 2 weeks")
    await add_milestone(fiat, ann, "Most", "10,000", "in 3 weeks")
    assert [m.amount for m in await milestones(fiat, cid, ann)] == [100, 1_000_000]
    assert tg.invoice(await invoice_for(fiat, ann, cid, "Least"))["total_amount"] == 100


async def test_an_edit_to_an_amount_outside_is_asked_again(fiat, people):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Build", "1500", "in 2 weeks")
    await fiat.press(ann, await open_card(fiat, ann, cid), "Edit «Build»")
    await fiat.press(ann, fiat.last(ann), "Amount")
    refused = await fiat.send(ann, "12,000")
    assert refused.plain_text.startswith(USD_RANGE + "\nSend the amount in USD"), refused.plain_text
    summary = await fiat.send(ann, "2,000")
    assert "Amount: $2,000.00" in summary.plain_text
    assert (await fiat.press(ann, summary, "Save"))["text"] == "Changes saved."
    assert [m.amount for m in await milestones(fiat, cid, ann)] == [200_000]


async def test_save_checks_the_amount_against_the_limits_loaded_by_then(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await fiat.send(ann, "/addmilestone")
    await fiat.send(ann, "Design")
    await fiat.send(ann, "9,000")
    asked = await fiat.send(ann, "in 2 weeks")
    await fiat.press(ann, asked, "Skip")
    summary = fiat.last(ann)
    tg.set_currencies(usd_limits(100, 800_000))  # refreshed meanwhile: up to $8,000.00
    assert await loaded(fiat).refresh()
    answer = await fiat.press(ann, summary, "Save")
    day_range = "Amount must be from $1.00 to $8,000.00: the range Telegram Payments takes in USD today."
    assert answer["text"] == day_range, answer
    assert f"Not saved: {day_range}" in fiat.texts(ann)
    assert await milestones(fiat, cid, ann) == []
    # The draft stays: Edit → Amount, and it is saved.
    await fiat.press(ann, fiat.last(ann), "Edit")
    await fiat.press(ann, fiat.last(ann), "Amount")
    summary = await fiat.send(ann, "7,500")
    assert (await fiat.press(ann, summary, "Save"))["text"] == "Saved."
    assert [m.amount for m in await milestones(fiat, cid, ann)] == [750_000]


async def test_a_proposal_and_an_invoice_meet_the_limits_of_the_day(fiat, people, tg):
    """Limits follow exchange rates: what was inside when it was typed is checked again when it is accepted
    or invoiced, against the limits loaded now."""
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Design", "1500", "in 2 weeks")
    ann_count = len(tg.messages(ann))
    await add_milestone(fiat, bob, "Extra page", "9,000", "in 3 weeks")
    [proposal_note] = [m for m in tg.messages(ann)[ann_count:] if "Extra page" in m.plain_text]

    tg.set_currencies(usd_limits(200_000, 800_000))  # the next day: $2,000.00 to $8,000.00
    assert await loaded(fiat).refresh()
    day_range = "Amount must be from $2,000.00 to $8,000.00: the range Telegram Payments takes in USD today."

    answer = await fiat.press(ann, proposal_note, "Accept proposal")
    assert day_range in answer["text"], answer
    contract = await fiat.app.bot_data["deps"].svc.view(cid, ann.id)
    assert [m.status for m in contract.proposals()] == [MilestoneStatus.PROPOSED], "nothing accepted"

    card = await open_card(fiat, ann, cid)
    answer = await fiat.press(ann, card, "Activate & fund «Design»")
    assert answer["text"] == day_range and answer.get("show_alert"), answer
    assert not tg.calls_of("sendInvoice"), "no invoice Telegram would refuse"
    assert not (await milestones(fiat, cid, ann))[0].invoice_nonce, "nothing stored"

    # Ann can go on: she raises the amount, and the invoice goes out.
    await fiat.press(ann, await open_card(fiat, ann, cid), "Edit «Design»")
    await fiat.press(ann, fiat.last(ann), "Amount")
    summary = await fiat.send(ann, "2,500")
    await fiat.press(ann, summary, "Save")
    asked = tg.invoice(await invoice_for(fiat, ann, cid))
    assert asked["total_amount"] == 250_000 and not bad_calls(tg)


async def test_a_bonus_outside_the_limits_is_asked_again_before_anything_is_released(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Design", "1500", "in 2 weeks")
    await submitted(fiat, ann, bob, cid)
    await fiat.press(ann, await open_card(fiat, ann, cid), "Approve + bonus…")
    refused = await fiat.send(ann, "20,000")
    assert refused.plain_text == f"{USD_RANGE} Send the amount again, or /cancel.", refused.plain_text
    assert (await milestones(fiat, cid, ann))[0].status is MilestoneStatus.SUBMITTED
    await fiat.send(ann, "50")
    answer = await fiat.press(ann, fiat.last(ann), "Release + bonus")
    assert answer["text"] == "Released: the bonus is invoiced to you.", answer
    await fiat.app.bot_data["sender"].drain()
    [bonus] = [m for m in invoices(tg, ann) if tg.invoice(m)["payload"].startswith("b")]
    assert tg.invoice(bonus)["total_amount"] == 5_000 and not bad_calls(tg)


async def test_a_bonus_invoice_is_checked_against_the_limits_loaded_when_it_is_sent(fiat, people, tg):
    """The limits moved between the bonus typed and its invoice (a race with the daily refresh): no invoice
    Telegram would refuse; the client is told why."""
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Design", "1500", "in 2 weeks")
    await submitted(fiat, ann, bob, cid)
    [design] = await milestones(fiat, cid, ann)
    deps = fiat.app.bot_data["deps"]
    await deps.svc.perform(Action.APPROVE_WITH_BONUS, ann.id, fiat.clock(), milestone_id=design.id, bonus=5_000)
    tg.set_currencies(usd_limits(10_000, 1_000_000))  # from $100.00
    assert await loaded(fiat).refresh()
    with pytest.raises(InvalidInput, match=r"from \$100\.00 to \$10,000\.00"):
        await deps.extra["payments"].issue_bonus_invoice(ann.id, design.id, fiat.clock())
    assert not [m for m in invoices(tg, ann) if tg.invoice(m)["payload"].startswith("b")]


async def test_a_contract_currency_must_be_in_the_file_with_the_bots_decimals(fiat, people, tg):
    ann, _, _ = people
    await fiat.send(ann, "/newcontract")
    await fiat.send(ann, "Shop")
    refused = await fiat.send(ann, "CHF")  # Telegram Payments takes it, but not in today's file
    assert refused.plain_text == (
        "Telegram Payments doesn't take CHF: choose e.g. USD, EUR or GBP. Send the currency again."
    )
    refused = await fiat.send(ann, "JPY")
    assert refused.plain_text == (
        "Telegram Payments counts JPY in other units than this bot does: choose another currency, e.g. USD, "
        "EUR or GBP. Send the currency again."
    )
    asked = await fiat.send(ann, "EUR")
    assert "I am the client" in [label for label, _ in asked.buttons]


async def test_stars_and_ledger_mode_load_nothing(tg, db_url, clock, people):
    tg.set_currencies(LIMITS)
    for settings in ({"payments": "telegram"}, {}):
        app = await make_app(tg, db_url, clock, **settings)
        try:
            assert payment_limits.of(app) is None
            assert not app.job_queue.get_jobs_by_name(payment_limits.JOB_NAME)
        finally:
            await app.shutdown()
            await app.bot_data["engine"].dispose()
    assert tg.currencies_requests == 0


# ----- loading, refreshing and failing ---------------------------------------------------------------------
async def test_the_limits_are_loaded_over_http_at_start_and_refreshed_daily(http_fake, db_url, clock, people, caplog):
    tg = http_fake
    tg.set_currencies(LIMITS)
    caplog.set_level(logging.INFO, logger=LOG)
    h = await money_harness(
        tg, db_url, clock, payment_provider_token=PROVIDER, payment_currencies_url=tg.currencies_url
    )
    try:
        limits = loaded(h)
        assert limits.current() is not None and set(limits.current().currencies) == {"USD", "EUR", "JPY"}
        assert f"loaded Telegram Payments' amount limits for 3 currencies from {tg.currencies_url}" in caplog.text
        [job] = h.app.job_queue.get_jobs_by_name(payment_limits.JOB_NAME)
        assert job.job.trigger.interval == timedelta(days=1)
        assert not h.app.job_queue.get_jobs_by_name(payment_limits.RETRY_JOB_NAME), "nothing to try again"

        tg.set_currencies(usd_limits(100, 5_000_000))  # the next day: up to $50,000.00
        await job.callback(None)
        assert tg.currencies_requests == 2
        ann, bob, _ = people
        cid = await setup_contract(h, ann, bob)
        await add_milestone(h, ann, "Design", "20,000", "in 2 weeks")
        assert tg.invoice(await invoice_for(h, ann, cid))["total_amount"] == 2_000_000
    finally:
        await close(h)


async def test_a_limits_file_answering_500_logs_a_warning_and_leaves_amounts_unchecked(
    http_fake, db_url, clock, people, caplog
):
    tg = http_fake
    tg.fail_next("currencies.json", 500)
    caplog.set_level(logging.INFO, logger=LOG)
    h = await money_harness(
        tg, db_url, clock, payment_provider_token=PROVIDER, payment_currencies_url=tg.currencies_url
    )
    try:
        [warning] = [r for r in caplog.records if r.name == LOG and r.levelno == logging.WARNING]
        text = warning.getMessage()
        assert text.startswith(f"could not load Telegram Payments' currency limits from {tg.currencies_url}")
        assert "500" in text and "amounts are not checked against them until a load succeeds" in text
        assert loaded(h).current() is None

        # The bot works; amounts are not checked (Telegram itself would still refuse an invoice outside).
        ann, bob, _ = people
        cid = await setup_contract(h, ann, bob)
        await add_milestone(h, ann, "Design", "50,000", "in 2 weeks")
        assert tg.invoice(await invoice_for(h, ann, cid))["total_amount"] == 5_000_000
        assert not bad_calls(tg)

        # A failed load is tried again a quarter of an hour later (the daily refresh goes on); once it
        # succeeds, amounts are checked.
        [daily] = h.app.job_queue.get_jobs_by_name(payment_limits.JOB_NAME)
        [retry] = h.app.job_queue.get_jobs_by_name(payment_limits.RETRY_JOB_NAME)
        in_ = retry.job.trigger.run_date - datetime.now(UTC)  # the job queue runs on the real clock
        assert payment_limits.RETRY_AFTER - timedelta(seconds=30) < in_ <= payment_limits.RETRY_AFTER
        assert daily.job.trigger.interval == payment_limits.REFRESH_EVERY
        tg.set_currencies(LIMITS)
        await retry.callback(None)
        assert loaded(h).current() is not None
        await h.send(ann, "/addmilestone")
        await h.send(ann, "Build")
        assert (await h.send(ann, "20,000")).plain_text.startswith(USD_RANGE)
    finally:
        await close(h)


async def test_a_limits_file_that_does_not_answer_does_not_hold_up_the_start(
    http_fake, db_url, clock, people, caplog, monkeypatch
):
    tg = http_fake
    tg.set_currencies(LIMITS)
    tg.slow_next("currencies.json", 3.0)
    monkeypatch.setattr(payment_limits, "FETCH_TIMEOUT_S", 0.5)
    caplog.set_level(logging.INFO, logger=LOG)
    started = time.monotonic()
    h = await money_harness(
        tg, db_url, clock, payment_provider_token=PROVIDER, payment_currencies_url=tg.currencies_url
    )
    try:
        assert time.monotonic() - started < 2.5, "the start waited for the limits"
        [warning] = [r for r in caplog.records if r.name == LOG and r.levelno == logging.WARNING]
        assert "TimeoutError: no answer within 0.5 s" in warning.getMessage()
        assert loaded(h).current() is None
        ann, bob, _ = people
        cid = await setup_contract(h, ann, bob)
        await add_milestone(h, ann, "Design", "50,000", "in 2 weeks")
        assert [m.amount for m in await milestones(h, cid, ann)] == [5_000_000]
    finally:
        await close(h)


@pytest.mark.parametrize(
    "fault",
    [
        lambda tg: tg.fail_next("currencies.json", 500),
        lambda tg: tg.fail_next("currencies.json", 404),
        lambda tg: tg.drop_next("currencies.json"),
        lambda tg: tg.set_currencies({"USD": "garbage"}),
    ],
    ids=["500", "404", "dropped", "not-limits"],
)
async def test_a_refresh_that_fails_keeps_the_limits_loaded_before(fiat, people, tg, caplog, fault):
    limits = loaded(fiat)
    before = limits.current()
    assert before is not None
    fault(tg)
    caplog.set_level(logging.INFO, logger=LOG)
    [job] = fiat.app.job_queue.get_jobs_by_name(payment_limits.JOB_NAME)
    await job.callback(None)
    assert limits.current() is before
    assert fiat.app.job_queue.get_jobs_by_name(payment_limits.RETRY_JOB_NAME), "tried again later"
    [warning] = [r for r in caplog.records if r.name == LOG and r.levelno == logging.WARNING]
    assert "keeping the limits loaded at 2026-11-27 10:00 UTC" in warning.getMessage()

    ann, bob, _ = people
    await setup_contract(fiat, ann, bob)
    await fiat.send(ann, "/addmilestone")
    await fiat.send(ann, "Design")
    assert (await fiat.send(ann, "20,000")).plain_text.startswith(USD_RANGE), "still checked"
