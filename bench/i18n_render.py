"""Supporting figure for issue 16 (languages): what rendering costs in each language, against English.

Run: .venv/bin/python -m bench.i18n_render [--quick]
A contract with five milestones (one funded, one submitted): its card, the news of an approval and
the /help text, rendered `--n` times per round in each language; the median of rounds per render, and
the ratio to English measured in the same run. English goes through the same `_()` calls (the msgid is
its own text: a NullTranslations lookup); the others look the text up in their catalog and format money
and dates with their Babel locale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.i18n import LANGUAGES, speaking  # noqa: E402
from bot.texts import card_text, help_text, notification  # noqa: E402
from domain.model import Contract, Role  # noqa: E402
from domain.reminders import ReminderSettings  # noqa: E402


def contract() -> Contract:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    c = Contract.create(1, Role.CLIENT, "Website redesign", "USD", now)
    c.id = 1
    c.join(2, now)
    for n in range(5):
        ms = c.add_milestone(1, f"Milestone {n}", 150_000 + n, date(2026, 12, 20 + n), "", now.date(), now)
        ms.id = n + 1
    first, second = c.ordered()[:2]
    c.activate(1, first.id, now)
    c.submit(2, first.id, "done", now)
    return c


def render_once(c: Contract, names: dict[int, str], policy: ReminderSettings) -> None:
    card_text(c, Role.CLIENT, names, 0, UTC)
    notification("released", c, c.ordered()[0], "Ann", [], tz=UTC)
    help_text(14, policy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=200, help="renders per round")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    n, rounds = (50, 3) if args.quick else (args.n, args.rounds)
    c = contract()
    names = {1: "Ann", 2: "Bob"}
    policy = ReminderSettings()
    per: dict[str, list[float]] = {lang: [] for lang in LANGUAGES}
    for lang in LANGUAGES:  # warm the catalogs and the caches
        with speaking(lang):
            render_once(c, names, policy)
    for _round in range(rounds):
        for lang in LANGUAGES:  # interleaved: the same noise for every language
            with speaking(lang):
                start = time.perf_counter()
                for _ in range(n):
                    render_once(c, names, policy)
                per[lang].append((time.perf_counter() - start) / n * 1e6)
    base = statistics.median(per["en"])
    print(f"card + news + /help, {n} renders x {rounds} rounds; microseconds per render (median, range)")
    for lang, values in per.items():
        med = statistics.median(values)
        print(f"{lang:6} {med:8.1f}  ({min(values):.1f}-{max(values):.1f})  ratio to en {med / base:.2f}")


if __name__ == "__main__":
    main()
