"""Telegram Payments' amount limits with the real `python -m bot` process (issue 14): in provider mode it loads
them over HTTP from PAYMENT_CURRENCIES_URL (the fake's /currencies.json, never the Internet) at start and
refuses to invoice an amount outside them, naming the range; a file it can't load leaves it working."""

from __future__ import annotations

import pytest

from testkit.process import BotProcess
from tests.e2e.test_payments_e2e import MODES, OLGA, PROVIDER, invoice, people, seed_contract, stopped  # noqa: F401
from tests.e2e.test_story import refused

pytestmark = pytest.mark.e2e

LIMITS = {"USD": {"code": "USD", "exp": 2, "min_amount": "100", "max_amount": "1000000"}}


def start(tg, tmp_path, amount: int) -> tuple[BotProcess, int]:
    cid, _ = seed_contract(tmp_path / "bot.sqlite3", "USD", amount, stars=False)
    proc = BotProcess(
        tg,
        tmp_path / "bot.sqlite3",
        tmp_path / "bot.log",
        extra_env={"PAYMENTS": "telegram", "OPERATOR_IDS": str(OLGA), "PAYMENT_PROVIDER_TOKEN": PROVIDER},
    )
    tg.abort_check = proc.died
    proc.start()
    return proc, cid


def test_the_process_loads_the_limits_and_refuses_an_invoice_outside_them(tg, tmp_path, people, stopped):  # noqa: F811
    ann, _ = people
    tg.set_currencies(LIMITS)
    proc, cid = start(tg, tmp_path, 2_000_000)  # $20,000.00, stored before the limits applied
    stopped.append(proc)
    assert tg.currencies_requests == 1
    assert f"loaded Telegram Payments' amount limits for 1 currencies from {tg.currencies_url}" in proc.output()
    mark = tg.mark()
    tg.send_text(ann, f"/start c{cid}")
    card = tg.wait_for_message(ann, "you are the client", after=mark)
    refused(
        tg,
        tg.press(ann, card, "Activate & fund «Design»"),
        "Amount must be from $1.00 to $10,000.00: the range Telegram Payments takes in USD today.",
    )
    assert not tg.calls_of("sendInvoice")


def test_a_limits_file_that_fails_leaves_the_process_working_unchecked(tg, tmp_path, people, stopped):  # noqa: F811
    ann, _ = people
    tg.fail_next("currencies.json", 503)
    proc, cid = start(tg, tmp_path, MODES["provider"][2])
    stopped.append(proc)
    assert "WARNING bot.payment_limits: could not load Telegram Payments' currency limits" in proc.output()
    assert "amounts are not checked against them until a load succeeds" in proc.output()
    assert tg.invoice(invoice(tg, ann, cid))["total_amount"] == MODES["provider"][2]
