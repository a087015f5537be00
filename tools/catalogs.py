"""The message catalogs (PRODUCT §9): extract, update and check them.

    python -m tools.catalogs extract   # bot/ and domain/ -> bot/locales/messages.pot (pybabel extract)
    python -m tools.catalogs update    # the .pot merged into each language's .po (pybabel update)
    python -m tools.catalogs compile   # .po -> .mo (pybabel compile; optional: the bot reads the .po)
    python -m tools.catalogs check     # what CI checks (tests/i18n/test_catalogs.py runs the same)

`check` fails on: a string the code shows that is not in the .pot (the .pot is stale); a language
missing a translation, or with a fuzzy one; a placeholder ({name}) or HTML tag in a translation that
differs from its msgid; and a user-facing string literal in bot/ that does not go through the catalog
(`_`, `ngettext`, `N_`). A literal meant as it is (a URL, a language's own name) carries `# i18n: ok`.
"""

from __future__ import annotations

import ast
import html
import re
import string
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
POT = LOCALES / "messages.pot"
CFG = ROOT / "babel.cfg"
KEYWORDS = ["-k", "Term", "-k", "N_", "-k", "ngettext:1,2"]
LANGS = ["ru", "es", "pt_BR", "fa"]


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def extract(out: Path = POT) -> None:
    pybabel(
        "extract",
        "-F",
        str(CFG),
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--omit-header",
        "--width",
        "120",
        "--ignore-dirs",
        ".* _* tests testkit bench tools node_modules",
        "-o",
        str(out),
        str(ROOT),  # babel.cfg's patterns (bot/**.py, domain/**.py) are relative to it
    )


def update() -> None:
    for lang in LANGS:
        po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "--no-fuzzy-matching", "-w", "120")
        else:
            pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "-w", "120")


def compile_mo() -> None:
    pybabel("compile", "-d", str(LOCALES), "--statistics")


# --- checks ---------------------------------------------------------------------------------------------

_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def placeholders(text: str) -> Counter[str]:
    out: Counter[str] = Counter()
    try:
        for _lit, name, spec, conv in string.Formatter().parse(text):
            if name is not None:  # with its format spec and conversion: "{max:,}" and "{max}" differ
                out[name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")] += 1
    except ValueError:
        out["<unbalanced braces>"] += 1
    return out


def tags(text: str) -> Counter[str]:
    return Counter(m.group(0) if m.group(0).startswith("</") else f"<{m.group(1)}>" for m in _TAG.finditer(text))


def check_catalogs() -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        extract(fresh)
        with fresh.open("rb") as f:
            wanted = {m.id for m in read_po(f) if m.id}
    with POT.open("rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    for mid in sorted(wanted - committed, key=str):
        problems.append(f"messages.pot: not extracted (run `python -m tools.catalogs extract`): {mid!r}")
    for lang in LANGS:
        problems += check_po(LOCALES / lang / "LC_MESSAGES" / "messages.po", lang, wanted)
    return problems


def check_po(path: Path, lang: str, wanted: set[Any]) -> list[str]:
    """One language's catalog against the msgids the code uses: each translated, none fuzzy, the same
    placeholders and HTML tags as its msgid."""
    if not path.exists():
        return [f"{lang}: no catalog at {path}"]
    problems = []
    with path.open("rb") as f:
        po = read_po(f, locale=lang)
    have = {m.id: m for m in po if m.id}
    for mid in sorted(wanted, key=str):
        msg = have.get(mid)
        key = mid if isinstance(mid, str) else mid[0]
        if msg is None:
            problems.append(f"{lang}: missing {key!r}")
            continue
        if msg.fuzzy:
            problems.append(f"{lang}: fuzzy {key!r}")
        strs = list(msg.string) if isinstance(msg.string, tuple | list) else [msg.string]
        if not all(strs) or len(strs) < (po.num_plurals if isinstance(mid, tuple) else 1):
            problems.append(f"{lang}: untranslated {key!r}")
            continue
        ids = list(mid) if isinstance(mid, tuple) else [mid]
        for s in strs:
            s = s or ""
            want, got = placeholders(ids[-1]), placeholders(s)
            if isinstance(mid, tuple):  # a plural form may say "one" in words instead of {n}
                for counted in [k for k in (*want, *got) if k == "n" or k.startswith(("n:", "n!"))]:
                    want.pop(counted, None)
                    got.pop(counted, None)
            if set(want) != set(got):
                problems.append(f"{lang}: placeholders differ in {key!r}: {dict(got)} vs {dict(want)}")
            if tags(ids[-1]) != tags(s):
                problems.append(f"{lang}: HTML tags differ in {key!r}")
    return problems


def english_pieces(min_len: int = 24) -> list[str]:
    """Pieces of the catalog's English sentences, split at placeholders and tags, long enough to be ours
    alone: what a text in another language must not contain (the language tests, testkit/leakscan.py)."""
    with POT.open("rb") as f:
        ids = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id]
    out = set()
    for mid in ids:
        plain = html.unescape(re.sub(r"<[^>]+>", "", mid))
        for piece in re.split(r"\{[^}]*\}", plain):
            piece = piece.strip(" .,:;!?()«»\n")
            if len(piece) >= min_len and " " in piece:
                out.add(piece)
    return sorted(out)


# --- strings in bot/ that bypass the catalog ------------------------------------------------------------

_THROUGH = {"_", "N_", "ngettext", "Term"}
_DOMAIN_ERRORS = {
    "DomainError",
    "NotFound",
    "NotAllowed",
    "OutOfOrder",
    "AnotherMilestoneFunded",
    "InvalidState",
    "AlreadyDone",
    "ContractClosed",
    "InvalidInput",
    "InviteInvalid",
}
_LOGGERS = {"log", "logger", "logging", "warnings"}
_SILENT_KW = {"parse_mode", "callback_data", "url", "currency", "payload", "start_parameter", "mime_type"}
_WORDY = re.compile(r"[A-Za-z]{2,}[^\n]*\s[A-Za-z]{2,}|^[A-Z][a-z]{2,}")
_LOG_FORMAT = re.compile(r"%[sdr]")  # a log line's format (the logging call may be elsewhere)
_CODE_LIKE = re.compile(r"^[a-z0-9_:./%{}=&?#-]*$|^[A-Z0-9_]+$")


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        base = f.value
        root = base.id if isinstance(base, ast.Name) else ""
        return f"{root}.{f.attr}"
    return ""


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def bypassing(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each user-facing literal in the file that does not go through the catalog."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    docs = _docstrings(tree)
    skip: set[int] = set()

    def mark(node: ast.AST) -> None:
        for sub in ast.walk(node):
            skip.add(id(sub))

    pragma: set[int] = set()
    found: list[tuple[int, int, str]] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign | ast.AnnAssign) and "i18n: ok" in lines[n.lineno - 1]:
            pragma.update(id(sub) for sub in ast.walk(n))  # a table meant as it is (the languages' own names)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and "i18n: ok" in lines[n.lineno - 1]:
            mark(n)  # words for the operator or the logs (a start-up error, a log filter), not for users
        if isinstance(n, ast.Call):
            name = _call_name(n)
            if name in {"_", "ngettext", "N_"} and any(
                isinstance(a, ast.JoinedStr | ast.IfExp | ast.BinOp | ast.BoolOp) for a in n.args
            ):
                # pybabel extracts only literals: an f-string or an expression here is never translated
                found.append((n.lineno, n.col_offset, f"{name}() of an expression, not a literal"))
            root, _, attr = name.rpartition(".")
            if (
                name in _THROUGH
                or root in _LOGGERS
                or name in {"getLogger", "TypeVar", "getattr", "setattr"}
                or attr in {"startswith", "endswith"}
            ):
                mark(n)
            for kw in n.keywords:
                if kw.arg in _SILENT_KW:
                    mark(kw.value)
        elif isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call):
            if _call_name(n.exc).rpartition(".")[2] not in _DOMAIN_ERRORS:
                mark(n.exc)
        elif isinstance(n, ast.Subscript):
            mark(n.slice)
        elif isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets):
            mark(n.value)
        elif isinstance(n, ast.Compare):
            mark(n)  # "not modified" in str(err): reading Telegram's words, not saying ours
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Constant) and isinstance(n.value, str)):
            continue
        if id(n) in docs or id(n) in skip:
            continue
        text = n.value
        if not _WORDY.search(text) or _CODE_LIKE.match(text.strip()) or _LOG_FORMAT.search(text):
            continue
        line = lines[n.lineno - 1] if n.lineno - 1 < len(lines) else ""
        end = lines[n.end_lineno - 1] if n.end_lineno and n.end_lineno - 1 < len(lines) else ""
        if "i18n: ok" in line or "i18n: ok" in end or id(n) in pragma:
            continue
        found.append((n.lineno, n.col_offset, text))
    for lineno, _col, literal in sorted(found):
        yield lineno, literal


def check_source(paths: Iterable[Path] | None = None) -> list[str]:
    files = sorted(paths) if paths else sorted((ROOT / "bot").rglob("*.py"))
    problems = []
    for path in files:
        if path.name == "settings.py" and path.parent.name == "bot":
            continue  # the deployment's configuration: read by the operator, in English
        for line, text in bypassing(path):
            rel = path.relative_to(ROOT) if path.is_absolute() else path
            problems.append(f"{rel}:{line}: not through the catalog: {text[:70]!r}")
    return problems


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "extract":
        extract()
    elif cmd == "update":
        update()
    elif cmd == "compile":
        compile_mo()
    elif cmd in ("check", "check-source", "check-catalogs"):
        problems = []
        if cmd in ("check", "check-source"):
            problems += check_source([Path(a).resolve() for a in argv[1:]] or None)
        if cmd in ("check", "check-catalogs"):
            problems += check_catalogs()
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
