"""Self-tests of the fake Bot API's payments (issue 14): sendInvoice checked as Telegram checks it, a
pre-checkout query answered once within 10 s, successful payments, refundStarPayment once per charge, and
a document uploaded over HTTP (multipart/form-data)."""

from __future__ import annotations

import json

import httpx

from testkit.fake_telegram import QUERY_INVALID, FakeTelegram

TOKEN = "123456:TEST-fake-token"


def invoice_params(**over) -> dict:
    params = {
        "chat_id": 1,
        "title": "Design",
        "description": "Escrow funding",
        "payload": "m1.abc.1.sig",
        "currency": "XTR",
        "prices": json.dumps([{"label": "Design", "amount": 250}]),
    }
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def test_send_invoice_is_checked_as_telegram_does():
    fake = FakeTelegram(TOKEN)
    fake.user(1, "Ann", started=True)
    refused = {
        "stars with a provider token": invoice_params(provider_token="x:TEST:y"),
        "fiat without a provider token": invoice_params(currency="USD"),
        "a payload over 128 bytes": invoice_params(payload="p" * 129),
        "a title over 32 characters": invoice_params(title="t" * 33),
        "no prices": invoice_params(prices="[]"),
        "a zero total": invoice_params(prices=json.dumps([{"label": "x", "amount": 0}])),
        "two prices in stars": invoice_params(prices=json.dumps([{"label": "a", "amount": 1}] * 2)),
    }
    for why, params in refused.items():
        status, _ = fake.call_direct("sendInvoice", params)
        assert status == 400, why
    status, answer = fake.call_direct("sendInvoice", invoice_params(currency="USD", provider_token="x:TEST:y"))
    assert status == 200 and answer["result"]["invoice"]["total_amount"] == 250
    message = fake.last_message(1)
    assert fake.invoice(message)["provider_token"] == "x:TEST:y"


def test_pre_checkout_is_answered_once_and_a_refusal_needs_its_reason():
    fake = FakeTelegram(TOKEN)
    ann = fake.user(1, "Ann", started=True)
    fake.call_direct("sendInvoice", invoice_params())
    query = fake.start_payment(ann, fake.last_message(1))
    [update] = fake.call_direct("getUpdates", {"offset": 0, "timeout": 0})[1]["result"]
    assert update["pre_checkout_query"]["total_amount"] == 250
    assert fake.call_direct("answerPreCheckoutQuery", {"pre_checkout_query_id": query, "ok": False})[0] == 400
    assert fake.call_direct("answerPreCheckoutQuery", {"pre_checkout_query_id": query, "ok": True})[0] == 200
    status, answer = fake.call_direct("answerPreCheckoutQuery", {"pre_checkout_query_id": query, "ok": True})
    assert status == 400 and answer["description"] == QUERY_INVALID


def test_a_charge_is_delivered_and_refunded_once():
    fake = FakeTelegram(TOKEN)
    ann = fake.user(1, "Ann", started=True)
    fake.call_direct("sendInvoice", invoice_params())
    query = fake.start_payment(ann, fake.last_message(1))
    fake.call_direct("answerPreCheckoutQuery", {"pre_checkout_query_id": query, "ok": True})
    charge = fake.complete_payment(ann, query)
    paid = fake.call_direct("getUpdates", {"offset": 0, "timeout": 0})[1]["result"][-1]["message"]
    assert paid["successful_payment"]["telegram_payment_charge_id"] == charge
    assert paid["successful_payment"]["invoice_payload"] == "m1.abc.1.sig"
    refund = {"user_id": 1, "telegram_payment_charge_id": charge}
    assert fake.call_direct("refundStarPayment", {**refund, "user_id": 2})[0] == 400
    assert fake.call_direct("refundStarPayment", refund)[0] == 200
    status, answer = fake.call_direct("refundStarPayment", refund)
    assert status == 400 and "CHARGE_ALREADY_REFUNDED" in answer["description"]


def test_a_document_upload_over_http():
    with FakeTelegram(TOKEN) as fake:
        fake.user(1, "Ann", started=True)
        response = httpx.post(
            f"{fake.api_url}{TOKEN}/sendDocument",
            data={"chat_id": "1", "caption": "Ledger"},
            files={"document": ("ledger.csv", b"a,b\n1,2\n", "text/csv")},
        )
        result = response.json()["result"]
        assert result["document"]["file_name"] == "ledger.csv" and result["document"]["file_size"] == 8
        assert fake.uploads[result["document"]["file_id"]] == b"a,b\n1,2\n"
        empty = httpx.post(
            f"{fake.api_url}{TOKEN}/sendDocument", data={"chat_id": "1"}, files={"document": ("e.csv", b"")}
        )
        assert empty.status_code == 400
