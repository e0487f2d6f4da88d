"""How fast is `classify`, next to the `parse_message` every message already pays for?

Runs both over the real messages in ../shared/corpora (or $INBOXCRM_CORPORA): the sisimai bounce set
(maildir/bsd and maildir/not: nearly all reports, so nearly all take the deep path) and the Apache
PonyMail list archives (ordinary mail: the header-only path). Prints messages per second for each and
the ratio classify / parse, per set and overall; best of --repeat runs.
Run: `.venv/bin/python bench/classify.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from inboxcrm.core.classify import Kind, classify  # noqa: E402
from inboxcrm.core.model import Message  # noqa: E402
from inboxcrm.core.parsing import parse_message  # noqa: E402
from timing import best_of  # noqa: E402


def corpora() -> Path:
    path = Path(os.environ.get("INBOXCRM_CORPORA", ROOT.parent / "shared" / "corpora"))
    if not (path / "README.md").is_file():
        sys.exit(f"the mail corpora are missing at {path}: set INBOXCRM_CORPORA")
    return path


def sisimai_messages(base: Path) -> list[bytes]:
    folder = base / "sisimai-set-of-emails" / "maildir"
    return [p.read_bytes() for sub in ("bsd", "not") for p in sorted((folder / sub).iterdir()) if p.is_file()]


def ponymail_messages(base: Path) -> list[bytes]:
    raws: list[bytes] = []
    for path in sorted((base / "apache-ponymail-unit-tests").rglob("*.mbox")):
        box = mailbox.mbox(path, create=False)
        raws.extend(box.get_bytes(key) for key in box.iterkeys())
    return raws


def measure(name: str, raws: Sequence[bytes], repeat: int) -> tuple[float, float]:
    messages: list[Message] = [parse_message(raw) for raw in raws]
    pairs = list(zip(messages, raws, strict=True))
    parse_s = best_of(repeat, lambda: [parse_message(raw) for raw in raws])
    classify_s = best_of(repeat, lambda: [classify(m, raw) for m, raw in pairs])
    kinds: dict[Kind, int] = {}
    for message, raw in pairs:
        kind = classify(message, raw).kind
        kinds[kind] = kinds.get(kind, 0) + 1
    n = len(raws)
    print(
        f"{name:<10} {n:>5} msgs  parse {n / parse_s:>9,.0f} msg/s  classify {n / classify_s:>9,.0f} msg/s"
        f"  classify/parse time {classify_s / parse_s:>6.1%}   kinds: "
        + ", ".join(f"{k.value} {v}" for k, v in sorted(kinds.items()))
    )
    return parse_s, classify_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    base = corpora()
    bounces, lists = sisimai_messages(base), ponymail_messages(base)
    parse_a, classify_a = measure("sisimai", bounces, args.repeat)
    parse_b, classify_b = measure("ponymail", lists, args.repeat)
    n = len(bounces) + len(lists)
    parse_s, classify_s = parse_a + parse_b, classify_a + classify_b
    print(
        f"{'all':<10} {n:>5} msgs  parse {n / parse_s:>9,.0f} msg/s  classify {n / classify_s:>9,.0f} msg/s"
        f"  classify/parse time {classify_s / parse_s:>6.1%}"
    )


if __name__ == "__main__":
    main()
