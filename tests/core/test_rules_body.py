"""Body conditions: they read what the sender wrote (not the quoted mail below it), and the word index that
makes them fast on long mail gives the same answers as reading the whole text, also when the parsing
processes made it (`Analysis.words`)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.model import Message
from inboxcrm.core.reading import read_raw
from inboxcrm.core.rules import Facts, RuleSet, Vocabulary, compile_rules, evaluate
from inboxcrm.core.rules.text_index import literal_first, required_literals, word_runs

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
VOCABULARY = Vocabulary(mailboxes=frozenset({"support"}))

REPLY = b"""From: Carol <carol@acme-corp.example>
To: support@northwind.example
Subject: Re: Your order
Message-ID: <reply@acme-corp.example>
Content-Type: text/plain; charset=utf-8

Thanks, the drill arrived and works. Please cancel the second one.

On Mon, 2 Nov 2026 at 09:00, Northwind Support <support@northwind.example> wrote:
> Your refund for invoice 1042 is on its way.
> Reply if anything is missing.
"""


def body_rule(test: str) -> RuleSet:
    return compile_rules(
        [("rules/r.toml", f'[[rule]]\nname = "r"\nwhen.body = {test}\nthen.add_tags = "hit"\n')], VOCABULARY
    )


def on_reply(test: str) -> bool:
    """Whether a body test matches the reply above, read as ingest reads it (analysis, new text)."""
    reading = read_raw(REPLY)
    assert reading.message is not None and reading.analysis is not None
    message, analysis = reading.message, reading.analysis
    facts = Facts(message, analysis.kind, "support", "support", None, NOW, "UTC", analysis.body.new_text)
    return bool(evaluate(body_rule(test), facts).matches)


def test_a_body_test_reads_the_new_text_not_the_quoted_mail() -> None:
    assert on_reply('{ contains_word = "cancel" }')
    assert on_reply('"second one"')
    assert on_reply("{ regex = 'cancel\\s+the' }")
    # "refund" and "invoice" are only in the quoted mail the customer answered.
    assert not on_reply('{ contains_word = "refund" }')
    assert not on_reply('["invoice", "missing"]')
    assert not on_reply("{ regex = 'invoice\\s+\\d+' }")


def on_body(test: str, body: str) -> bool:
    facts = Facts(Message(None, "s", None), "normal", "support", "support", None, NOW, "UTC", body)
    decision = evaluate(body_rule(test), facts)
    assert decision.problems == ()
    if decision.matches:
        assert all(decision.matches[0].because)
    return bool(decision.matches)


# Texts and needles from a small alphabet, so that needles do occur, at word edges and inside words; with
# accented and non-Latin letters, an underscore, and characters that are not word characters.
ALPHABET = "ab_éΣ1 .-+\n…"
texts = st.text(ALPHABET, max_size=60)
needles = st.text(ALPHABET, min_size=1, max_size=4).filter(lambda n: n.strip() == n and n.strip() != "")


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@settings(max_examples=300, deadline=None)
@given(body=texts, needle=needles)
def test_contains_and_contains_word_answer_as_on_the_whole_text(body: str, needle: str) -> None:
    text, word = body.strip().lower(), needle.lower()
    assert on_body(f"{{ contains = {toml_string(needle)} }}", body) is (word in text)
    whole = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None
    assert on_body(f"{{ contains_word = {toml_string(needle)} }}", body) is whole


@settings(max_examples=200, deadline=None)
@given(
    body=texts,
    pattern=st.sampled_from(
        ["(?:ab|ba)\\s+\\w+", "\\bab\\b.*1", "é+(?:_a|Σ)", "(a|b)+1", "[ab]{2}", "a\\.b", "(?:ab|)\\w", "(?i)AB"]
    ),
)
def test_a_regex_answers_as_on_the_whole_text(body: str, pattern: str) -> None:
    expected = re.search(pattern, body.strip(), re.IGNORECASE) is not None
    assert on_body(f"{{ regex = {toml_string(pattern)} }}", body) is expected


@given(text=st.text())
def test_word_runs_are_the_words_a_regex_finds(text: str) -> None:
    assert word_runs(text) == frozenset(re.findall(r"\w+", text))


@settings(max_examples=300)
@given(text=st.text("abc1 _-\n", max_size=30))
def test_every_match_holds_one_of_the_required_literals(text: str) -> None:
    for pattern in ["(?:ab|ca)\\s*\\d", "\\bab?c+\\b", "(?:a|b)c(?:_|-)1", "(?:abc)+ ?1", "a(?:b|c)", "(?>ab)c"]:
        literals = required_literals(pattern)
        assert literals, pattern
        if re.search(pattern, text):
            assert any(literal in text for literal in literals), (pattern, literals)


def test_no_literals_are_claimed_where_none_are_required() -> None:
    for pattern in ["(?i)abc", "\\d+", "(?:ab|\\d)x?", "(?:abc)*", "a|", "[ab]+"]:
        assert required_literals(pattern) is None, pattern
    assert required_literals("(?i:ab)cd") == ("cd",)


LEADING = ["\\bab\\s*1", "(?:ab|b-)\\w", "\\b(a|-b)\\b", "(?:ab|ba)1?", "\\b-a", "(ab|c) ", "\\ba(?:b|1)"]


@settings(max_examples=300)
@given(text=st.text("ab1 _-\n", max_size=30))
def test_a_regex_written_to_start_with_its_text_matches_where_it_did(text: str) -> None:
    for pattern in LEADING:
        rewritten = literal_first(pattern)
        assert rewritten, pattern
        assert any(re.search(p, text) for p in rewritten) is (re.search(pattern, text) is not None), pattern


def test_a_regex_that_cannot_be_split_is_left_as_written() -> None:
    for pattern in ["abc\\d", "(?:a|b)+", "(?:a|b){2}", "(a|b)\\1", "(?:a|b)x|y", "\\bab?c", "(?i)(?:a|b)", "(?=a)b"]:
        assert literal_first(pattern) is None, pattern


WORD_RULES = """
[[rule]]
name = "words"
when.body.contains_word = ["refund", "cancel", "2026", "meeting"]
then.add_tags = "w"

[[rule]]
name = "text"
when.body = ["unsubscribe", "thank", "please"]
then.add_tags = "t"

[[rule]]
name = "regex"
when.body.regex = 'order\\s+#?\\d+'
then.add_tags = "r"
"""


def test_words_made_where_mail_is_read_decide_as_words_made_by_the_rules(
    corpora: Path, generated_mail: list[Path]
) -> None:
    rules = compile_rules([("rules/words.toml", WORD_RULES)], VOCABULARY)
    hits = 0
    for path in [*generated_mail, *sorted(p for p in corpora.rglob("*.eml") if p.is_file())]:
        reading = read_raw(path.read_bytes())
        if reading.message is None or reading.analysis is None:
            continue
        message, analysis = reading.message, reading.analysis
        assert analysis.words is not None
        facts = Facts(message, analysis.kind, "support", "support", None, NOW, "UTC", analysis.body.new_text)
        made_here = evaluate(rules, facts)
        made_there = evaluate(rules, replace(facts, words=analysis.words))
        assert made_there == made_here, path
        hits += len(made_here.matches)
    assert hits > 50  # the rules match real mail, so equal decisions say something
