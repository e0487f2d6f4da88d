"""How fast does `evaluate` run 200 compiled rules, next to the `parse_message` every message already pays for?

Rules: the shipped rules/*.toml plus generated ones from varied templates (subject and body words, regexes,
sender and recipient domains, headers, attachments, contact fields, weekday/time, any/not), 200 in all.
Messages: every .eml and .mbox message in ../shared/corpora (or $INBOXCRM_CORPORA), the message files of
notmuch's corpus, and the reply bodies of discourse's trimmer corpus (each under a minimal header), parsed and
analysed once beforehand (not timed) and given alternately to the support and sales mailboxes with a made-up
contact. One row per corpus folder, and all of them together.
Two runs: the rules as written (the shipped ones stop early on automatic mail and our own replies), and the
same rules with every `stop` removed, so that each message meets all 200 rules; a third leaves out the reasons.
Best of --repeat runs, in CPU time of this process. The last lines say whether every corpus reaches --goal
msg/s (default 10,000).
Run: `.venv/bin/python bench/rules.py [--repeat N] [--rules N] [--goal N]`.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from inboxcrm.core.analysis import analyse  # noqa: E402
from inboxcrm.core.parsing import parse_message  # noqa: E402
from inboxcrm.core.rules import ContactFacts, Facts, RuleSet, Vocabulary, compile_rules, evaluate  # noqa: E402
from timing import best_of  # noqa: E402

VOCABULARY = Vocabulary(
    templates=frozenset({"ack-support", "sales/pricing", "support/ack"}),
    campaigns=frozenset({"trial-nurture"}),
    agents=frozenset({"ana", "ben"}),
    stages=("subscriber", "lead", "mql", "sql", "customer"),
    queues=frozenset({"support", "billing", "sales"}),
    deal_stages=("qualified", "demo", "proposal", "won", "lost"),
    mailboxes=frozenset({"support", "sales"}),
)
_WORDS = """invoice refund price pricing quote demo trial urgent broken error crash login password account order
delivery shipping return warranty upgrade downgrade cancel renewal contract license seats discount partner
reseller meeting call webinar newsletter unsubscribe bug patch release build test mail list thread vote commit"""
WORDS = tuple(_WORDS.split())
_DOMAINS = """gmail.com yahoo.com hotmail.com apache.org example.com example.org acme-corp.example globex.example
initech.example umbrella.example docomo.ne.jp ezweb.ne.jp outlook.com gmx.de web.de free.fr"""
DOMAINS = tuple(_DOMAINS.split())
HEADERS = ("List-Id", "X-Mailer", "Precedence", "Auto-Submitted", "X-Priority", "User-Agent", "Importance")
TAGS = ("vip", "beta", "pricing", "newsletter", "key-account", "do-not-mail")
STAGES = ("subscriber", "lead", "mql", "sql", "customer")
# CPU time of this process: parsing and rules are pure computation, and on a shared machine wall time also
# counts the time other processes had the CPU.
CLOCK = time.process_time


def corpora() -> Path:
    path = Path(os.environ.get("INBOXCRM_CORPORA", ROOT.parent / "shared" / "corpora"))
    if not (path / "README.md").is_file():
        sys.exit(f"the mail corpora are missing at {path}: set INBOXCRM_CORPORA")
    return path


def corpus_messages(base: Path) -> dict[str, list[bytes]]:
    """Raw messages per corpus folder: every .eml file, every message of every .mbox file, notmuch's message
    files (Maildir-style names, no suffix) and discourse's reply bodies, each given a minimal header."""
    sets: dict[str, list[bytes]] = {}
    for path in sorted(base.rglob("*.eml")):
        sets.setdefault(path.relative_to(base).parts[0], []).append(path.read_bytes())
    for path in sorted(base.rglob("*.mbox")):
        box = mailbox.mbox(path, create=False)
        sets.setdefault(path.relative_to(base).parts[0], []).extend(box.get_bytes(key) for key in box.iterkeys())
    notmuch = base / "notmuch-corpora" / "test" / "corpora"
    sets["notmuch-corpora"] = [p.read_bytes() for p in sorted(notmuch.rglob("*")) if p.is_file()]
    replies = base / "discourse-email_reply_trimmer" / "test" / "emails"
    header = b"From: Someone <someone@example.org>\nTo: support@northwind.example\nSubject: Re: your ticket\n\n"
    sets["discourse-email_reply_trimmer"] = [header + p.read_bytes() for p in sorted(replies.glob("*.txt"))]
    return {name: raws for name, raws in sets.items() if raws}


def some(rng: random.Random, pool: Sequence[str], low: int = 1, high: int = 4) -> str:
    return "[" + ", ".join(f'"{w}"' for w in rng.sample(list(pool), rng.randint(low, high))) + "]"


def generated_rule(rng: random.Random, index: int) -> str:
    """One rule from a template picked at random: the mix of conditions a real team's rules have."""
    mailbox_line = f'when.mailbox = "{rng.choice(["support", "sales"])}"\n' if rng.random() < 0.5 else ""
    word = rng.choice(WORDS)
    other = rng.choice(WORDS)
    domains = some(rng, DOMAINS)
    # Each template pairs broad tests (kind, tags, time …) with a selective one, as real rules do: most rules
    # match a small share of the mail.
    templates = [
        f"when.subject.contains = {some(rng, WORDS)}",
        f"when.subject.contains_word = {some(rng, WORDS)}",
        f"when.body.contains = {some(rng, WORDS, 1, 3)}",
        f"when.body.contains_word = {some(rng, WORDS, 2, 5)}",
        f"when.subject.regex = '\\b{word}s?\\b.*\\d+'",
        f"when.body.regex = '(?:{word}|{other})\\s+\\w+\\s+\\d{{2,}}'",
        f"when.from = {domains}",
        f'when.from = "*@{rng.choice(DOMAINS)}"',
        f"when.to.domain = {some(rng, DOMAINS, 1, 2)}",
        f'when.kind = "normal"\nwhen.from.free_mail = {rng.choice(["true", "false"])}\nwhen.subject = "{word}"',
        f'when.header."{rng.choice(HEADERS)}" = "{rng.choice(["bulk", "list", "1", "outlook", "apache"])}"',
        f'when.header.List-Id.exists = true\nwhen.body.contains = "{word}"',
        f'when.attachment.filename = ["*.pdf", "*.{rng.choice(["doc", "xls", "png", "zip"])}"]',
        'when.attachment.content_type = "image/*"',
        f'when.contact = {{ has_tag = "{rng.choice(TAGS)}", score_at_least = {rng.randint(0, 80)} }}\n'
        f'when.subject.contains = "{word}"',
        f'when.contact.stage = "{rng.choice(STAGES)}"\nwhen.body.contains_word = "{word}"',
        f'when.any = [{{ subject.contains = "{word}" }}, {{ body.contains_word = "{other}" }}]',
        f'when.not.from = {domains}\nwhen.subject.starts_with = ["re:", "fwd:"]\nwhen.body.contains = "{word}"',
        f'when.weekday = "weekend"\nwhen.subject.contains = "{word}"',
        f'when.time = {{ after = "{rng.randint(17, 21)}:00", before = "0{rng.randint(5, 8)}:00" }}\n'
        f'when.subject.contains_word = "{word}"',
        f'when.kind = ["normal", "list"]\nwhen.subject.contains = "{word}"\n'
        f'when.not.any = [{{ body.contains = "{other}" }}, {{ cc = "{rng.choice(DOMAINS)}" }}]',
    ]
    actions = [
        f'add_tags = "{word}"',
        f"score = {rng.randint(-10, 30)}",
        f'queue = "{rng.choice(["support", "billing", "sales"])}"',
        f'priority = "{rng.choice(["low", "normal", "high"])}"',
        f'assign = "{rng.choice(["ana", "ben", "round-robin"])}"',
        f'stage = "{rng.choice(STAGES)}"',
        'enrol = "trial-nurture"',
    ]
    then = ", ".join(rng.sample(actions, rng.randint(1, 3)))
    return f'[[rule]]\nname = "generated {index}"\n{mailbox_line}{rng.choice(templates)}\nthen = {{ {then} }}\n\n'


def rule_files(count: int, stops: bool) -> list[tuple[str, str]]:
    files = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "rules").glob("*.toml"))]
    shipped = sum(text.count("[[rule]]") for _, text in files)
    rng = random.Random(20261102)
    files.append(("rules/90-generated.toml", "".join(generated_rule(rng, i) for i in range(count - shipped))))
    if not stops:
        files = [(path, text.replace("stop = true", "stop = false")) for path, text in files]
    return files


def facts_for(raws: Sequence[bytes]) -> list[Facts]:
    """Parse and analyse each message once; give it a mailbox and a contact like ingest would."""
    found: list[Facts] = []
    for index, raw in enumerate(raws):
        message = parse_message(raw)
        analysis = analyse(message, raw)
        email = message.from_.email if message.from_ else f"nobody{index}@example.org"
        rng = random.Random(email)
        contact = ContactFacts(
            email,
            frozenset(rng.sample(TAGS, rng.randint(0, 2))),
            float(rng.randint(0, 100)),
            rng.choice(STAGES),
            email.rpartition("@")[2] or None,
        )
        mailbox_name = ("support", "sales")[index % 2]
        now = message.date or datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
        found.append(
            Facts(
                message,
                analysis.kind,
                mailbox_name,
                mailbox_name,
                contact,
                now,
                "Europe/Berlin",
                analysis.body.new_text,
                "in",
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--goal", type=float, default=10_000, help="msg/s every corpus should reach")
    args = parser.parse_args()
    sets = corpus_messages(corpora())
    prepared = {name: (raws, facts_for(raws)) for name, raws in sorted(sets.items())}

    compiled: dict[bool, RuleSet] = {}
    for stops in (True, False):
        start = time.perf_counter()
        compiled[stops] = compile_rules(rule_files(args.rules, stops), VOCABULARY)
        took = (time.perf_counter() - start) * 1000
        print(f"{len(compiled[stops].rules)} rules ({'as written' if stops else 'no stop'}) compiled in {took:.0f} ms")
    # (label, rules, reasons): the rules as written; every rule met; and the outcome alone, without reasons.
    variants = [("as written", compiled[True], True), ("no stop", compiled[False], True)]
    variants.append(("no stop, no reasons", compiled[False], False))

    header = f"{'corpus':<30} {'msgs':>5} {'parse':>7}"
    for label, _, _ in variants:
        header += f" │ {label:>19} {'µs':>6} {'÷parse':>6} {'hits':>4}"
    print(
        "\nmsg/s; µs per message; evaluation time ÷ parse time; rules matched per message "
        f"(best of {args.repeat}, CPU time)"
    )
    print(header)
    print("─" * len(header))
    totals = [0.0] * (len(variants) + 1)
    rates: list[list[tuple[float, str]]] = [[] for _ in variants]
    count = 0
    for name, (raws, facts) in prepared.items():

        def parse_all(raws: list[bytes] = raws) -> object:
            return [parse_message(raw) for raw in raws]

        parse_s = best_of(args.repeat, parse_all, CLOCK)
        totals[0] += parse_s
        line = f"{name:<30} {len(raws):>5} {len(raws) / parse_s:>7,.0f}"
        for index, (_, rules, reasons) in enumerate(variants, start=1):

            def run(rules: RuleSet = rules, facts: list[Facts] = facts, reasons: bool = reasons) -> object:
                return [evaluate(rules, f, reasons=reasons) for f in facts]

            eval_s = best_of(args.repeat, run, CLOCK)
            totals[index] += eval_s
            rates[index - 1].append((len(facts) / eval_s, name))
            hits = sum(len(evaluate(rules, f).matches) for f in facts) / len(facts)
            micros = eval_s / len(facts) * 1e6
            line += f" │ {len(facts) / eval_s:>19,.0f} {micros:>6.1f} {eval_s / parse_s:>6.0%} {hits:>4.1f}"
        count += len(raws)
        print(line)
    print("─" * len(header))
    line = f"{'all':<30} {count:>5} {count / totals[0]:>7,.0f}"
    for index in range(1, len(variants) + 1):
        seconds = totals[index]
        line += f" │ {count / seconds:>19,.0f} {seconds / count * 1e6:>6.1f} {seconds / totals[0]:>6.0%} {'':>4}"
    print(line)
    print()
    for (label, _, _), found in zip(variants, rates, strict=True):
        slowest, name = min(found)
        below = [n for rate, n in found if rate < args.goal]
        verdict = "every corpus" if not below else f"{len(below)} below: {', '.join(below)}"
        print(f"{label + ':':<21} slowest {slowest:>7,.0f} msg/s ({name}); ≥ {args.goal:,.0f} msg/s: {verdict}")


if __name__ == "__main__":
    main()
