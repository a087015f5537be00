"""Money inside a domain refusal, and the history notes the domain composes itself, in the reader's
language (PRODUCT §9): English byte for byte as before (`reason`, `HistoryEntry.note`), the reader's own
words, money and dates otherwise; a person's own text as they wrote it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.disputes import dispute_text
from bot.i18n import _, note_text, speaking, why
from bot.parsing import parse_amount
from bot.texts import notification
from domain.actions import Action
from domain.errors import Amount, Day, InvalidInput, Term, Words
from domain.model import Contract, Role
from domain.money import amount_rule
from domain.payments import PaymentLimits
from domain.services import MilestoneDetails
from storage.repositories import _said_from_json, _said_json

from .helpers import CLIENT, FREELANCER, NOW, TODAY, active_contract, add
from .test_payments import telegram_contract

OPERATOR = 909


def ru_spaces(text: str) -> str:
    """Russian groups digits and parts money with no-break spaces: compare them as spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def test_an_amount_in_a_refusal_reads_in_the_readers_locale():
    c = active_contract()
    ms = add(c, "Design", 150_000)
    with pytest.raises(InvalidInput) as refused:
        c.check_amount(Action.PAY_LESS, ms, 150_000)
    err = refused.value
    assert err.reason == "The amount to release must be between $0.01 and $1,499.99 ($1,500.00 is held)."
    assert isinstance(err.params["held"], Amount) and err.params["held"] == "$1,500.00"
    with speaking("en"):
        assert why(err) == err.reason
    with speaking("ru"):
        shown = ru_spaces(why(err))
        assert _("amount to release") in shown
    assert "1 500,00 $" in shown and "0,01 $" in shown and "1 499,99 $" in shown
    assert "$1,500.00" not in shown and "amount to release" not in shown


def test_telegrams_limits_and_the_bonus_refusal_carry_amounts_too():
    limits = PaymentLimits.from_json({"USD": {"exp": 2, "min_amount": "100", "max_amount": "1000000"}})
    with pytest.raises(InvalidInput) as refused:
        limits.check_amount(150_000_000, "USD")
    assert refused.value.reason == (
        "Amount must be from $1.00 to $10,000.00: the range Telegram Payments takes in USD today."
    )
    with speaking("ru"):
        assert "от 1,00 $ до 10 000,00 $" in ru_spaces(why(refused.value))
    c = telegram_contract()
    ms = add(c, "Design", 50_000)
    c.issue_invoice(CLIENT, ms.id, "n1", NOW)
    c.apply_payment(CLIENT, ms.id, ms.amount, "USD", "ch1", "", NOW)
    c.submit(FREELANCER, ms.id, "done", NOW)
    c.approve_with_bonus(CLIENT, ms.id, 150_000, NOW)
    wrong = c.bonus_payment_refusal(CLIENT, ms.id, None, 1_000, "USD")
    assert wrong is not None and wrong.reason == "This invoice is not for the bonus of «Design» ($1,500.00)."
    with speaking("es"):
        assert "1.500,00" in why(wrong) and "$1,500.00" not in why(wrong)


def test_the_example_of_how_to_write_an_amount_is_written_the_readers_way():
    err = amount_rule("USD")
    assert err.reason == "Amount must be a positive number with at most 2 decimals, e.g. 1500 or 1,250.50."
    for lang in ("ru", "es", "pt_BR", "fa"):
        with speaking(lang):
            example = err.params["example"]
            shown = why(err)
            local = shown[shown.rindex(" ") + 1 :].rstrip(".")
            assert parse_amount(local, "USD") == example.minor == 125_050, (lang, shown)
    with speaking("ru"):
        assert ru_spaces(why(err)).endswith("1 250,50.")


def every_composed_note() -> list:
    """A ledger contract and a Telegram one through every event whose note the domain writes itself."""
    c = active_contract()
    ms1 = add(c, "Design", 150_000)
    c.edit_milestone(CLIENT, ms1.id, NOW, TODAY, title="Design v2", due_date=TODAY + timedelta(days=40))
    c.activate(CLIENT, ms1.id, NOW)
    c.propose_due_change(FREELANCER, ms1.id, TODAY + timedelta(days=50), TODAY, NOW)
    c.accept_due_change(CLIENT, ms1.id, NOW)
    c.propose_due_change(FREELANCER, ms1.id, TODAY + timedelta(days=60), TODAY, NOW)
    c.decline_due_change(CLIENT, ms1.id, NOW)
    c.submit(FREELANCER, ms1.id, "done", NOW)
    c.pay_less(CLIENT, ms1.id, 100_000, "Half of it is missing", NOW)
    ms2 = add(c, "Build", 20_000)
    c.activate(CLIENT, ms2.id, NOW)
    c.submit(FREELANCER, ms2.id, "done", NOW)
    c.approve_with_bonus(CLIENT, ms2.id, 5_000, NOW)
    ms3 = add(c, "Ship", 30_000)
    c.activate(CLIENT, ms3.id, NOW)
    c.open_dispute(CLIENT, ms3.id, "Late", NOW)
    c.offer_settlement(CLIENT, ms3.id, 10_000, NOW, note="Fair")
    c.counter_offer(FREELANCER, ms3.id, 25_000, NOW)
    c.accept_offer(CLIENT, ms3.id, NOW)
    ms4 = add(c, "Polish", 30_000)
    c.activate(CLIENT, ms4.id, NOW)
    c.open_dispute(FREELANCER, ms4.id, "Unpaid", NOW)
    c.escalate_dispute(ms4.id, NOW + timedelta(days=30), 7)
    c.decide_dispute(OPERATOR, ms4.id, 12_345, "Split by the work done", NOW, frozenset({OPERATOR}))
    add(c, "Later", 1_000)
    c.end(CLIENT, NOW)
    t = telegram_contract()
    ms = add(t, "Design", 50_000)
    t.issue_invoice(CLIENT, ms.id, "n1", NOW)
    t.apply_payment(CLIENT, ms.id, 49_000, "USD", "wrong", "", NOW)  # unapplied: the amount changed
    t.apply_payment(CLIENT, ms.id, ms.amount, "USD", "ch1", "", NOW)
    t.submit(FREELANCER, ms.id, "done", NOW)
    t.approve_with_bonus(CLIENT, ms.id, 5_000, NOW)
    t.issue_bonus_invoice(CLIENT, ms.id, "b1")
    t.apply_bonus_payment(CLIENT, ms.id, 5_000, "USD", "bch1", "", NOW)
    t.apply_bonus_payment(CLIENT, ms.id, 5_000, "USD", "bch2", "", NOW)  # unapplied: paid already
    return c.new_history + t.new_history


def test_the_domains_own_notes_are_english_as_before_and_translated_otherwise():
    history = every_composed_note()
    notes = {(h.action, h.note) for h in history}
    # English, byte for byte as these notes always read.
    assert notes >= {
        ("contract_created", "as client"),
        ("joined", "as freelancer"),
        ("milestone_edited", "title, due date"),
        ("due_date_changed", "2027-01-06 → 2027-01-16"),
        ("due_date_declined", "2027-01-16 → 2027-01-26"),
        ("released_less", "$1,000.00 of $1,500.00, $500.00 refunded: Half of it is missing"),
        ("released_with_bonus", "bonus $50.00"),
        ("dispute_offer", "$100.00 to the freelancer, $200.00 to the client: Fair"),
        ("dispute_countered", "$250.00 to the freelancer, $50.00 to the client"),
        ("dispute_settled", "$250.00 to the freelancer, $50.00 to the client"),
        ("dispute_decided", "$123.45 to the freelancer, $176.55 to the client: Split by the work done"),
        ("milestone_cancelled", "contract ended"),
        ("payment_unapplied", "The amount of «Design» changed since this invoice: ask for a new one."),
        ("paid_and_funded", "charge ch1"),
        ("released_with_bonus", "bonus $50.00 invoiced, not paid yet"),
        ("bonus_paid", "bonus $50.00, charge bch1"),
        ("payment_unapplied", "The bonus for «Design» is paid already."),
    }
    composed = [h for h in history if h.said is not None]
    assert {h.action for h in history if h.note and h.said is None} == {"submitted", "dispute_opened"}
    for h in composed:
        with speaking("en"):
            assert note_text(h.note, h.said) == h.note
        assert _said_from_json(_said_json(h.said)) == h.said  # stored and read back, types and all
        with speaking("ru"):
            shown = note_text(h.note, h.said)
        assert shown != h.note, h
        for english in ("to the freelancer", "to the client", "refunded", "bonus", "charge", "as client"):
            assert english not in shown, (english, shown)
        assert not re.search(r"\$\d|\d{4}-\d\d-\d\d", shown), shown  # $1,500.00, 2026-12-01: English
        for theirs in ("Fair", "Split by the work done", "Half of it is missing", "«Design»"):
            assert (theirs in shown) == (theirs in h.note), (theirs, shown)


def test_a_person_s_own_note_and_an_old_note_are_shown_as_written():
    with speaking("ru"):
        assert note_text("done", None) == "done"
        assert note_text("as client", None) == "as client"  # a row stored before notes were sentences


def test_the_news_of_a_settlement_offer_reads_its_amounts_in_the_readers_language():
    c = active_contract()
    ms = add(c, "Design", 150_000)
    c.activate(CLIENT, ms.id, NOW)
    c.open_dispute(CLIENT, ms.id, "Late", NOW)
    c.offer_settlement(CLIENT, ms.id, 100_000, NOW, note="Fair")
    offer = c.new_history[-1]
    with speaking("en"):
        english = notification("dispute_offer", c, ms, "Ann", note=offer.note, said=offer.said)
    assert english.endswith("\nOffer: $1,000.00 to the freelancer, $500.00 to the client: Fair")
    with speaking("ru"):
        russian = ru_spaces(notification("dispute_offer", c, ms, "Ann", note=offer.note, said=offer.said))
    assert russian.endswith(": 1 000,00 $ фрилансеру, 500,00 $ клиенту: Fair"), russian


def test_value_types_read_as_english_text():
    assert f"{Amount(150_000, 'USD')}" == "$1,500.00" == str(Amount(150_000, "USD"))
    assert str(Amount(125_050, "USD", plain=True)) == "1,250.50"
    assert "{d} {w}".format(d=Day("2026-12-01"), w=Words((Term("title"), Term("due date")))) == (
        "2026-12-01 title, due date"
    )
    with speaking("ru"):
        assert "дек" in note_text("x", ("{old} → {new}", {"old": Day("2026-12-01"), "new": Day("2026-12-05")}))


def test_a_contract_created_by_the_freelancer_says_so():
    c = Contract.create(FREELANCER, Role.FREELANCER, "Site", "USD", NOW)
    assert c.new_history[0].note == "as freelancer"
    with speaking("pt_BR"):
        assert note_text(c.new_history[0].note, c.new_history[0].said) == "como freelancer"


def test_an_operator_reads_the_offers_of_a_dispute_in_their_language():
    c = active_contract()
    ms = add(c, "Design", 150_000)
    c.activate(CLIENT, ms.id, NOW)
    c.open_dispute(CLIENT, ms.id, "Late", NOW)
    c.offer_settlement(CLIENT, ms.id, 100_000, NOW, note="Fair")
    found = MilestoneDetails(c, ms, list(c.new_history), [])
    names = {CLIENT: "Ann", FREELANCER: "Bob"}
    with speaking("en"):
        assert "$1,000.00 to the freelancer, $500.00 to the client: Fair" in dispute_text(found, names)
    with speaking("ru"):
        shown = ru_spaces(dispute_text(found, names))
    assert "1 000,00 $ фрилансеру, 500,00 $ клиенту: Fair" in shown and "to the client" not in shown
