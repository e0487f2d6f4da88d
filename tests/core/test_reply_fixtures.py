"""Our own reply bodies (tests/fixtures/replies), one class per folder: forwards, mobile sign-offs, sign-offs,
inline answers, quotes only. `expected.toml` says how each splits and why; `test_figures_per_class` prints the
figures the README's table reports (run with -s)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from inboxcrm.core.quotes import BodyParts, split_html, split_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "replies"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
CASES = [(group, name, case) for group, cases in EXPECTED.items() for name, case in cases.items()]


def path_of(group: str, name: str) -> Path:
    return next((FIXTURES / group).glob(f"{name}.*"))


def split(group: str, name: str) -> BodyParts:
    path = path_of(group, name)
    text = path.read_text(encoding="utf-8")
    return split_html(text) if path.suffix == ".html" else split_text(text)


def problems(parts: BodyParts, case: dict[str, Any]) -> list[str]:
    found = []
    if parts.new_text != case["new"]:
        found.append(f"new_text {parts.new_text!r}")
    if parts.signature != case.get("signature", ""):
        found.append(f"signature {parts.signature!r}")
    for key, got in (("quoted", parts.quoted), ("forwarded", parts.forwarded)):
        want = case.get(key, "")
        if not got.startswith(want) or bool(got) != bool(want):
            found.append(f"{key} {got[:60]!r}")
    return found


def test_every_fixture_has_an_expectation_and_back() -> None:
    on_disk = {(p.parent.name, p.stem) for p in FIXTURES.glob("*/*.*")}
    assert on_disk == {(group, name) for group, name, _ in CASES}


@pytest.mark.parametrize(("group", "name", "case"), CASES, ids=[f"{g}/{n}" for g, n, _ in CASES])
def test_reply(group: str, name: str, case: dict[str, Any]) -> None:
    assert problems(split(group, name), case) == [], case["why"]


def test_figures_per_class() -> None:
    lines = []
    for group, cases in EXPECTED.items():
        right = sum(not problems(split(group, name), case) for name, case in cases.items())
        lines.append(f"  {group:<11} {right}/{len(cases)}")
    print("\nown reply fixtures (new text and signature exact, quoted/forwarded as expected):\n" + "\n".join(lines))
