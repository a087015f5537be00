"""Self-tests of the fake Bot API's documents and photos: people send them, the bot sends them again by
file_id (sendDocument / sendPhoto), refused as Telegram refuses a wrong one."""

from __future__ import annotations

import httpx

from testkit.fake_telegram import (
    CAPTION_TOO_LONG,
    FILE_TYPE_MISMATCH,
    NO_TEXT_TO_EDIT,
    WRONG_FILE_ID,
    FakeTelegram,
)

TOKEN = "123456:TEST-fake-token"


def updates(fake: FakeTelegram) -> list[dict]:
    return fake.call_direct("getUpdates", {"offset": 0, "timeout": 0})[1]["result"]


def test_a_document_and_a_photo_arrive_as_telegram_sends_them():
    fake = FakeTelegram(TOKEN)
    ann = fake.user(1, "Ann")
    fake.send_document(ann, "plan.pdf", caption="v2 <b>", media_group_id="g1")
    fake.send_photo(ann)
    doc, photo = (u["message"] for u in updates(fake))
    assert doc["document"]["file_name"] == "plan.pdf" and doc["caption"] == "v2 <b>"
    assert doc["media_group_id"] == "g1" and "text" not in doc
    assert len(photo["photo"]) == 3 and "caption" not in photo
    assert len({size["file_id"] for size in photo["photo"]}) == 3
    assert ann.started  # writing to a bot starts it


def test_files_go_out_again_by_file_id_and_wrong_ones_are_refused():
    fake = FakeTelegram(TOKEN)
    ann = fake.user(1, "Ann", started=True)
    fake.user(2, "Bob")  # has never started the bot
    fake.send_document(ann, "plan.pdf")
    fake.send_photo(ann)
    document_id, photo_id = (m.file_id for m in fake.user_messages(ann))

    status, sent = fake.call_direct(
        "sendDocument",
        {"chat_id": 1, "document": document_id, "caption": "<b>Plan</b> &amp; more", "parse_mode": "HTML"},
    )
    assert status == 200 and sent["result"]["document"]["file_id"] == document_id
    assert sent["result"]["caption"] == "Plan & more"
    status, sent = fake.call_direct("sendPhoto", {"chat_id": 1, "photo": photo_id})
    assert status == 200 and sent["result"]["photo"][-1]["file_id"] == photo_id
    assert [m.file_id for m in fake.messages(ann)] == [document_id, photo_id]
    sent_id = fake.messages(ann)[0].message_id

    for method, params, description in [
        ("sendDocument", {"chat_id": 1, "document": "no-such-file"}, WRONG_FILE_ID),
        ("sendDocument", {"chat_id": 1, "document": photo_id}, FILE_TYPE_MISMATCH),
        ("sendPhoto", {"chat_id": 1, "photo": document_id}, FILE_TYPE_MISMATCH),
        ("sendDocument", {"chat_id": 1, "document": document_id, "caption": "c" * 1025}, CAPTION_TOO_LONG),
        ("editMessageText", {"chat_id": 1, "message_id": sent_id, "text": "new"}, NO_TEXT_TO_EDIT),
    ]:
        status, answer = fake.call_direct(method, params)
        assert (status, answer["description"]) == (400, description), method
    status, answer = fake.call_direct("sendDocument", {"chat_id": 2, "document": document_id})
    assert status == 403  # Bob never started the bot
    assert len(fake.messages(ann)) == 2


def test_senddocument_over_http_as_a_json_body():
    with FakeTelegram(TOKEN) as fake:
        fake.user(1, "Ann", started=True)
        fake.send_document(1, "plan.pdf")
        document_id = fake.user_messages(1)[-1].file_id
        answer = httpx.post(f"{fake.api_url}{TOKEN}/sendDocument", json={"chat_id": 1, "document": document_id})
        assert answer.status_code == 200 and answer.json()["result"]["document"]["file_name"] == "plan.pdf"
