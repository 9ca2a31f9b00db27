"""The docs stay true: every line a walkthrough quotes is still at the line it links to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUOTED_LINE = re.compile(r"\[`([^`]+)`\]\((\.\./[^)#]+)#L(\d+)\)")


def _quotes() -> list[tuple[str, str, str, int]]:
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        for code, target, line in QUOTED_LINE.findall(doc.read_text()):
            found.append((doc.name, code, target, int(line)))
    return found


def test_the_walkthrough_quotes_lines() -> None:
    assert len([q for q in _quotes() if q[0] == "walkthrough.md"]) >= 15


@pytest.mark.parametrize(("doc", "code", "target", "line"), _quotes())
def test_a_quoted_line_is_at_its_link(doc: str, code: str, target: str, line: int) -> None:
    lines = (DOCS / target).resolve().read_text().splitlines()
    assert line <= len(lines), f"{doc}: {target} has no line {line}"
    assert code in lines[line - 1], (
        f"{doc}: {target}#L{line} is {lines[line - 1].strip()!r}, not {code!r}; "
        f"the quote is at line(s) {[n for n, text in enumerate(lines, 1) if code in text]}"
    )
