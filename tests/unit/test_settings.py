"""Settings: a copy of .env.example with only the token filled in starts with the defaults."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_the_example_env_file_with_a_token_gives_working_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "DATABASE_URL", "BOT_API_BASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    env = EXAMPLE.read_text().replace("BOT_TOKEN=\n", "BOT_TOKEN=123:abc\n")
    (tmp_path / ".env").write_text(env)
    s = Settings()
    assert s.bot_token.get_secret_value() == "123:abc"
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'milestone.sqlite3'}"
    assert s.bot_api_base_url is None and s.webhook_url is None and s.webhook_secret is None
    assert (s.review_days, s.reminder_hour, s.send_rate_per_second, s.default_timezone) == (14, 9, 30.0, "UTC")
    assert "123:abc" not in repr(s)
