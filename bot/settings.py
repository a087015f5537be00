"""Configuration from the environment or a .env file (pydantic-settings)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import default_database_url

TELEGRAM_CURRENCIES_URL = "https://core.telegram.org/bots/payments/currencies.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="Token from @BotFather")
    database_url: str = Field(default_factory=default_database_url)
    bot_api_base_url: str | None = Field(
        default=None, description="Root of a Bot API server, e.g. http://127.0.0.1:8081"
    )
    default_timezone: str = "UTC"
    review_days: int = Field(default=14, ge=1, le=90)
    reminder_sweep_seconds: float = Field(default=60.0, gt=0)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    log_level: str = "INFO"
    # At DEBUG, PTB logs the contents of updates and Bot API calls (people's messages, the bot's answers);
    # off, those lines name only the call or the update id (bot/app.py: HideContents). Never the token or secret.
    log_updates: bool = False
    max_concurrent_updates: int = Field(default=32, ge=1, le=512)
    # One person's updates (bot/concurrency.py): a burst of this many, then this many a second; the
    # excess is dropped with one notice. 0 a second turns the guard off.
    updates_per_person_burst: int = Field(default=20, ge=1, le=10_000)
    updates_per_person_per_second: float = Field(default=5.0, ge=0)
    # Telegram allows about 30 messages a second overall; 0 turns the limiter off (benchmarks only).
    send_rate_per_second: float = Field(default=30.0, ge=0)
    # The I/O shims, for speed: SQLite statements inline on the event loop (storage/sqlite_inline.py)
    # and Bot API calls over aiohttp (bot/http.py). Off: stock aiosqlite and PTB's HTTPXRequest.
    # Either shim also falls back, with a warning, when the installed libraries no longer fit it.
    io_shims: bool = True
    # An update stored but not handled for this long (the bot was down) is dropped with a logged reason
    # (bot/turn.py): the person has moved on, and a press that old can no longer be answered.
    inbox_max_age_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # SIGTERM: in-flight work gets this long, then the process exits; what is unsent goes out from the next.
    stop_grace_seconds: float = Field(default=1.5, ge=0, le=60)
    # The escrow agent's desk (PRODUCT §7, §8): Telegram user ids of the operators, comma-separated
    # ("111,222"). They see money held, payouts and refunds owed, payout details, and decide disputes.
    operator_ids: str = ""
    # A dispute without agreement for this many days goes to the operators (if any).
    dispute_days: int = Field(default=5, ge=1, le=60)
    # Money (PRODUCT §7): "ledger" (the bot records, holds nothing) or "telegram" (Telegram Payments; the
    # bot's owner holds funded money as escrow agent). Telegram mode pays in Stars (XTR) unless a provider
    # token from @BotFather is set, then in that provider's fiat currencies.
    payments: Literal["ledger", "telegram"] = "ledger"
    payment_provider_token: SecretStr | None = None
    # Telegram Payments' per-currency amount limits (JSON), loaded at start and daily with a provider token.
    payment_currencies_url: str = TELEGRAM_CURRENCIES_URL
    # Signs invoice payloads (HMAC-SHA256); unset: derived from the bot token (a new token voids old invoices).
    payment_secret: SecretStr | None = None

    @property
    def stars(self) -> bool:
        """Telegram mode without a provider token: Telegram Stars."""
        return self.payments == "telegram" and self.payment_provider_token is None

    @property
    def loads_payment_limits(self) -> bool:
        """Telegram mode with a provider token (fiat): Telegram Payments' amount limits apply."""
        return self.payments == "telegram" and self.payment_provider_token is not None

    def invoice_secret(self) -> bytes:
        if self.payment_secret is not None:
            return self.payment_secret.get_secret_value().encode()
        token = self.bot_token.get_secret_value() if self.bot_token else "0:test"
        return hmac.new(b"milestone-invoice-payload", token.encode(), hashlib.sha256).digest()

    @property
    def operators(self) -> frozenset[int]:
        """OPERATOR_IDS as ids; an entry that is not a whole number is an error at start."""
        return frozenset(int(part) for part in self.operator_ids.replace(" ", "").split(",") if part)

    @field_validator("operator_ids")
    @classmethod
    def _ids(cls, value: str) -> str:
        for part in value.replace(" ", "").split(","):
            if part and not part.lstrip("-").isdigit():
                raise ValueError(f"OPERATOR_IDS: {part!r} is not a Telegram user id")
        return value

    @field_validator("payment_currencies_url", mode="before")
    @classmethod
    def _currencies_url(cls, value):
        # Empty (a copied .env.example): Telegram's own file.
        if isinstance(value, str):
            value = value.strip() or TELEGRAM_CURRENCIES_URL
            if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
                raise ValueError(f"PAYMENT_CURRENCIES_URL: {value!r} is not an http(s) URL")
        return value

    @field_validator("payments", mode="before")
    @classmethod
    def _mode(cls, value):
        if not isinstance(value, str):
            return value
        return value.strip().lower() or "ledger"

    @field_validator(
        "bot_api_base_url",
        "webhook_url",
        "bot_token",
        "webhook_secret",
        "payment_provider_token",
        "payment_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("io_shims", mode="before")
    @classmethod
    def _empty_is_on(cls, value):
        return True if isinstance(value, str) and not value.strip() else value

    @field_validator("log_updates", mode="before")
    @classmethod
    def _empty_is_off(cls, value):
        return False if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_default(cls, value):
        # A copied .env.example leaves DATABASE_URL= empty: that means the default SQLite file.
        return default_database_url() if isinstance(value, str) and not value.strip() else value
