#!/usr/bin/env python3
"""Write the demo Maildir shipped in demo/maildir/: the support@ and sales@ inboxes of Northwind Tools.

    python3 scripts/make_demo_maildir.py [--out DIR]

Standard library only, and deterministic: every run writes the same bytes (no clock, no randomness;
Message-IDs, MIME boundaries and delivery delays are derived from each message's key).

Each message is a `Mail` spec in the demo_maildir package next to this script, its threads grouped by
what they show (support_tickets, support_clients, sales_leads, sales_bounce). demo_maildir/render.py adds
the parts a mail client adds (the quoted parent under a reply, Re: subjects, In-Reply-To/References, an
HTML twin for text+html mail) and the parts the receiving server adds (Return-Path, Delivered-To,
Received); this script delivers the files in arrival order into <out>/<folder>/new/ as
`<unix_ts>.<n>_demo.inboxcrm,S=<size>`, so that sorting the file names gives arrival order. Three
messages whose exact bytes matter (RFC 2047 headers, an ISO-8859-1 body, a Postfix bounce) are written by
hand; see the `raw_*` functions in support_clients and sales_bounce.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from demo_maildir import MAILS
from demo_maildir.model import Mail
from demo_maildir.render import render

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "demo" / "maildir"
FOLDERS = ("support", "sales")


def write_maildir(out: Path, mails: list[Mail]) -> list[Path]:
    rendered = render(mails)
    stamps = [int(m.arrived.timestamp()) for m, _ in rendered]
    assert len(set(stamps)) == len(stamps), "two messages arrive in the same second"
    for folder in FOLDERS:
        for sub in ("cur", "new", "tmp"):
            (out / folder / sub).mkdir(parents=True, exist_ok=True)
        (out / folder / "tmp" / ".gitkeep").touch()
        for old in (out / folder / "new").glob("*_demo.inboxcrm*"):  # only what this script wrote
            old.unlink()
    written = []
    for n, (mail, data) in enumerate(rendered, start=1):
        assert b"\r" not in data
        ts = int(mail.arrived.timestamp())
        path = out / mail.folder / "new" / f"{ts}.{n}_demo.inboxcrm,S={len(data)}"
        path.write_bytes(data)
        os.utime(path, (ts, ts))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"Maildir root (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    written = write_maildir(args.out, MAILS)
    for folder in FOLDERS:
        count = sum(1 for p in written if p.parent.parent.name == folder)
        print(f"{args.out / folder}: {count} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
