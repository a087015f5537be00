"""The webhook secret is compared in constant time by PTB's own webhook server; the log filters hide the
secret and, with LOG_UPDATES off, the contents PTB logs (pinned against the installed PTB's code)."""

from __future__ import annotations

import hmac
import inspect
import logging
import re
import sys
from types import SimpleNamespace

import pytest
import tornado.web
from telegram import Update
from telegram.ext._utils import webhookhandler

from bot.app import ConstantTimeSecret, HideContents, RedactSecrets, webhook_secret
from bot.settings import Settings

SECRET = "s3cret-Token_42"


def settings(**values) -> Settings:
    return Settings(_env_file=None, bot_token="1:x", **values)


def test_the_secret_compares_like_a_string():
    secret = ConstantTimeSecret(SECRET)
    assert secret == SECRET and SECRET == secret and not (SECRET != secret)
    for other in ("", SECRET[:-1], SECRET + "x", "S3cret-Token_42", "sécret", "\udcff"):
        assert secret != other and other != secret and not (other == secret)
    assert secret != 42 and secret != SECRET.encode()
    assert hash(secret) == hash(SECRET) and {secret: 1}[SECRET] == 1
    assert str.__str__(secret) == SECRET  # what PTB sends to setWebhook


def test_the_bot_gives_ptb_the_constant_time_secret():
    assert isinstance(webhook_secret(settings(webhook_secret=SECRET)), ConstantTimeSecret)
    assert webhook_secret(settings(webhook_secret=SECRET)) == SECRET
    assert webhook_secret(settings(webhook_secret="")) is None
    assert webhook_secret(settings()) is None


def test_ptbs_webhook_server_checks_the_secret_with_compare_digest(monkeypatch):
    """PTB 22 checks with `header != secret`; the secret the bot gives it turns that into compare_digest.
    Should PTB change its check, this test says so."""
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    secret = webhook_secret(settings(webhook_secret=SECRET))

    def validate(header: str) -> None:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": header}
        handler = SimpleNamespace(request=SimpleNamespace(headers=headers), secret_token=secret)
        webhookhandler.TelegramHandler._validate_post(handler)  # type: ignore[arg-type]

    validate(SECRET)
    assert compared == [(SECRET.encode(), SECRET.encode())]
    for wrong in ("s3cret-Token_41", "x", SECRET + SECRET):
        compared.clear()
        with pytest.raises(tornado.web.HTTPError) as refused:
            validate(wrong)
        assert refused.value.status_code == 403
        assert compared == [(SECRET.encode(), wrong.encode())]


def test_the_redaction_hides_the_token_and_the_secret_in_messages_and_tracebacks():
    redact = RedactSecrets({"123:tok": "<BOT_TOKEN>", SECRET: "<WEBHOOK_SECRET>", "": "<nothing>"})
    record = logging.LogRecord("telegram.ext.ExtBot", logging.DEBUG, __file__, 1, "params %s", ({"s": SECRET},), None)
    try:
        raise RuntimeError(f"/bot123:tok/setWebhook {SECRET}")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert redact.filter(record)
    assert record.getMessage() == "params {'s': '<WEBHOOK_SECRET>'}"
    assert "123:tok" not in record.exc_text and SECRET not in record.exc_text
    assert "/bot<BOT_TOKEN>/setWebhook <WEBHOOK_SECRET>" in record.exc_text


def _ptb_source() -> str:
    """The installed PTB's logging call sites, with adjacent string literals joined."""
    from telegram import _bot
    from telegram.ext import _application

    text = "".join(inspect.getsource(module) for module in (_bot, _application, webhookhandler))
    return re.sub(r'"\s*\n\s*"', "", text)


@pytest.mark.parametrize("template", sorted(HideContents.KEEP))
def test_hide_contents_knows_ptbs_lines_and_hides_their_contents(template):
    assert template in _ptb_source(), "PTB changed this log line: update HideContents.KEEP"
    keep = HideContents.KEEP[template]
    update = Update.de_json({"update_id": 77, "message": None}, None)
    args = ("sendMessage", {"text": "private words"})[:keep] + (update if "update %s" in template else "private words",)
    record = logging.LogRecord("telegram", logging.DEBUG, __file__, 1, template, args, None)
    assert HideContents().filter(record)
    message = record.getMessage()
    assert "private words" not in message and "LOG_UPDATES=false" in message
    if keep:
        assert "`sendMessage`" in message
    if "update %s" in template:
        assert "<update 77, contents hidden" in message


def test_log_updates_is_off_unless_set(monkeypatch):
    monkeypatch.delenv("LOG_UPDATES", raising=False)
    assert settings().log_updates is False
    assert settings(log_updates="").log_updates is False
    assert settings(log_updates="true").log_updates is True
