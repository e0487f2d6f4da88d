"""The index's words are cut by translation (`split_words`), not by the regex they are defined by: the two
must agree on every text, or a search would miss what the message says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inboxcrm.core.search_text import _WORD, Analyzer, split_words


@settings(max_examples=400)
@given(st.text())
def test_the_words_are_the_regexs_on_any_text(text: str) -> None:
    assert split_words(text) == _WORD.findall(text)


@given(st.text(alphabet=st.sampled_from("ab_-. \t\n1é…«»。\u00a0\u2003\u3042\u4e00Ⅻ²"), max_size=60))
def test_the_words_are_the_regexs_on_punctuated_text(text: str) -> None:
    assert split_words(text) == _WORD.findall(text)


def test_words_of_mail_as_written() -> None:
    text = "Re: Invoice #4711 (überfällig) — bitte bis 3.5. zahlen…«Müller»; snake_case, e-mail, 東京タワー"
    assert split_words(text) == [
        "Re", "Invoice", "4711", "überfällig", "bitte", "bis", "3", "5", "zahlen", "Müller", "snake", "case",
        "e", "mail", "東京タワー",
    ]  # fmt: skip
    # and the index takes the unspaced script one character at a time
    assert Analyzer("none").terms("東京タワー invoices") == ["東", "京", "タ", "ワ", "ー", "invoices"]
