"""domain/ stays pure: standard library and Babel only, no clock reads."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"babel"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def test_domain_imports_only_stdlib_and_babel():
    bad = []
    for path in DOMAIN.rglob("*.py"):
        for name, line in _imports(path):
            if name not in sys.stdlib_module_names and name not in ALLOWED_THIRD_PARTY:
                bad.append(f"{path.name}:{line} imports {name}")
    assert bad == []


def test_domain_never_reads_the_clock():
    bad = []
    for path in DOMAIN.rglob("*.py"):
        text = path.read_text()
        for needle in ("datetime.now(", "date.today(", "time.time(", "datetime.utcnow("):
            if needle in text:
                bad.append(f"{path.name}: {needle}")
    assert bad == []
