"""Our own bounce and not-a-bounce notices (tests/fixtures/bounces), one class per folder.

Each notice was written for inboxcrm the way its MTA, provider or filter writes them (read from public
documentation and MTA sources, not copied from any corpus); `expected.toml` says what it must be read as and
why the rule exists. `test_figures_per_class` prints the figures the README's table reports (run with -s).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from inboxcrm.core.classify import Classification, classify
from inboxcrm.core.parsing import parse_message

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
CASES = [(group, name, case) for group, cases in EXPECTED.items() for name, case in cases.items()]


def read(group: str, name: str) -> Classification:
    raw = (FIXTURES / group / f"{name}.eml").read_bytes()
    return classify(parse_message(raw), raw)


def matches(result: Classification, case: dict[str, Any]) -> bool:
    got = [[r.email, r.reason.value if r.reason else None, r.hard] for r in result.bounce]
    return result.kind.value == case["kind"] and got == case["recipients"]


def test_every_fixture_has_an_expectation_and_back() -> None:
    on_disk = {(p.parent.name, p.stem) for p in FIXTURES.glob("*/*.eml")}
    assert on_disk == {(group, name) for group, name, _ in CASES}


@pytest.mark.parametrize(("group", "name", "case"), CASES, ids=[f"{g}/{n}" for g, n, _ in CASES])
def test_notice(group: str, name: str, case: dict[str, Any]) -> None:
    result = read(group, name)
    got = [(r.email, r.reason.value if r.reason else None, r.hard) for r in result.bounce]
    want = [tuple(r) for r in case["recipients"]]
    assert (result.kind.value, got) == (case["kind"], want), f"{case['why']}\nreasons: {result.reasons}"


def test_figures_per_class() -> None:
    lines = []
    for group, cases in EXPECTED.items():
        right = sum(matches(read(group, name), case) for name, case in cases.items())
        lines.append(f"  {group:<11} {right}/{len(cases)}")
    print("\nown bounce fixtures (kind + every recipient + reason + hard/soft):\n" + "\n".join(lines))


def test_parse_shows_each_recipients_reason() -> None:
    """`inboxcrm parse --json` prints what `describe` returns: reason, status and hard/soft per recipient."""
    from inboxcrm.services.inspect import describe

    raw = (FIXTURES / "dsn" / "two-recipients-own-status.eml").read_bytes()
    shown = describe(raw, "two.eml", None)["bounce"]["recipients"]
    assert [(r["email"], r["status"], r["reason"], r["hard"]) for r in shown] == [
        ("ines@acme-corp.example", "5.1.1", "user_unknown", True),
        ("omar@acme-corp.example", "5.2.2", "mailbox_full", False),
    ]
    assert shown[0]["diagnostic"].startswith("550 5.1.1 <ines@acme-corp.example>")
