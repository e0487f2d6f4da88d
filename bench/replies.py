"""New-text accuracy and speed on discourse's reply-trimmer cases: our `split_text` against two PyPI parsers.

    .venv/bin/python bench/replies.py [--corpora DIR] [--seconds 1.0] [--failures]

A case counts as right when the parser's reply text equals `test/trimmed/X` after collapsing whitespace.
Needs the dev packages `mail-parser-reply` and `email-reply-parser`; the corpora are found like the tests
find them ($INBOXCRM_CORPORA, else ../shared/corpora beside the project).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from inboxcrm.core.quotes import split_text

ROOT = Path(__file__).resolve().parent.parent


def _ours() -> Callable[[str], str]:
    return lambda text: split_text(text).new_text


def _mail_parser_reply() -> Callable[[str], str]:
    from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]
    from mailparser_reply.constants import MAIL_LANGUAGES  # type: ignore[import-untyped]

    # Every language the package knows: the corpus mixes ~10 of them and we do not tell parsers which.
    parser = EmailReplyParser(languages=list(MAIL_LANGUAGES))
    return lambda text: parser.parse_reply(text) or ""


def _email_reply_parser() -> Callable[[str], str]:
    from email_reply_parser import EmailReplyParser  # type: ignore[import-untyped]

    return lambda text: EmailReplyParser.parse_reply(text) or ""


PARSERS: list[tuple[str, str, Callable[[], Callable[[str], str]]]] = [
    ("inboxcrm split_text", "inboxcrm", _ours),
    ("mail-parser-reply", "mail-parser-reply", _mail_parser_reply),
    ("email-reply-parser", "email-reply-parser", _email_reply_parser),
]


def normalise(text: str) -> str:
    return " ".join(text.split())


def load_cases(corpora: Path) -> list[tuple[str, str, str]]:
    root = corpora / "discourse-email_reply_trimmer" / "test"
    return [
        (path.name, path.read_text(encoding="utf-8"), (root / "trimmed" / path.name).read_text(encoding="utf-8"))
        for path in sorted((root / "emails").iterdir())
    ]


def throughput(parse: Callable[[str], str], bodies: list[str], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for body in bodies:
            parse(body)
        done += len(bodies)
    return done / elapsed


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument(
        "--corpora", type=Path, default=Path(os.environ.get("INBOXCRM_CORPORA", ROOT.parent / "shared" / "corpora"))
    )
    args.add_argument("--seconds", type=float, default=1.0, help="time spent measuring each parser's speed")
    args.add_argument("--failures", action="store_true", help="list the cases each parser gets wrong")
    options = args.parse_args()
    cases = load_cases(options.corpora)
    bodies = [body for _, body, _ in cases]

    print(f"{len(cases)} cases from discourse-email_reply_trimmer (new text == trimmed/, whitespace collapsed)\n")
    print(f"{'parser':<22} {'package':<28} {'right':>7} {'share':>7} {'msg/s':>10}")
    failures: dict[str, list[str]] = {}
    for label, package, build in PARSERS:
        parse = build()
        wrong = [name for name, body, trimmed in cases if normalise(parse(body)) != normalise(trimmed)]
        failures[label] = wrong
        right = len(cases) - len(wrong)
        speed = throughput(parse, bodies, options.seconds)
        print(f"{label:<22} {package + '==' + version(package):<28} {right:>3}/{len(cases):<3} "
              f"{right / len(cases):>7.1%} {speed:>10,.0f}")  # fmt: skip
    if options.failures:
        for label, wrong in failures.items():
            print(f"\n{label} gets wrong: {', '.join(wrong) or 'nothing'}")
    hostile()


# Bodies where every line is a candidate header, closer or signature: a quadratic step would show here.
HOSTILE = ["a 1:", "On Mon 5 Jan 2016 Bob <b@x.com> wrote:", "Thanks,\nBob", "-----\nshort", "From: a\nTo: b",
           "> q\nanswer"]  # fmt: skip


def hostile(size: int = 2_000_000) -> None:
    """split_text on 2 MB of each hostile shape, next to `str.splitlines` of the same text (the floor)."""
    from inboxcrm.core.quotes import split_text

    print("\nhostile 2 MB bodies: split_text seconds (and × str.splitlines of the same text)")
    for line in HOSTILE:
        body = (line + "\n") * (size // (len(line) + 1))
        start = time.perf_counter()
        body.splitlines()
        floor = time.perf_counter() - start
        start = time.perf_counter()
        split_text(body)
        took = time.perf_counter() - start
        print(f"  {line.splitlines()[0]!r:<45} {took:6.2f} s  ({took / floor:,.0f}×)")


if __name__ == "__main__":
    main()
