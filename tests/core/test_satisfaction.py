"""Survey links: signed, tamper-evident, one purpose; who is asked; CSAT as a share of good ratings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.core.satisfaction import (
    Rating,
    SurveyFacts,
    read_survey_token,
    survey_skip_reason,
    survey_token,
    tally,
)
from inboxcrm.core.unsubscribe import unsubscribe_token

SECRET = b"s3cret"


@given(st.integers(min_value=1, max_value=2**63 - 1), st.sampled_from(list(Rating)))
def test_a_token_reads_back_and_any_changed_character_breaks_it(ticket_id: int, rating: Rating) -> None:
    token = survey_token(ticket_id, rating, SECRET)
    assert read_survey_token(token, SECRET) == (ticket_id, rating)
    assert read_survey_token(token, b"other") is None
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert read_survey_token(changed, SECRET) is None


def test_other_tokens_signed_with_the_same_secret_are_not_survey_tokens() -> None:
    assert read_survey_token(unsubscribe_token("a@b.example", "x", SECRET), SECRET) is None
    relay = relay_address("s@b.example", 1, False, __import__("datetime").date(2030, 1, 1), SECRET)
    assert read_survey_token(relay.split("+", 1)[1].split("@")[0], SECRET) is None
    assert read_survey_token("", SECRET) is None and read_survey_token("!" * 40, SECRET) is None


def test_who_is_not_asked() -> None:
    fine = SurveyFacts(False, "normal", False, False, False)
    assert survey_skip_reason(fine, "carol@acme.example", False) is None
    assert survey_skip_reason(SurveyFacts(True, "normal", False, False, False), "c@a.example", False) == (
        "the ticket is history"
    )
    assert "auto reply" in (
        survey_skip_reason(SurveyFacts(False, "auto_reply", False, False, False), "c@a", False) or ""
    )
    assert "mailing list" in (survey_skip_reason(SurveyFacts(False, "normal", True, False, False), "c@a", False) or "")
    assert "unsubscribed" in (survey_skip_reason(SurveyFacts(False, "normal", False, True, False), "c@a", False) or "")
    assert "not read" in (survey_skip_reason(fine, "noreply@a.example", True) or "")
    assert "asked already" in (survey_skip_reason(SurveyFacts(False, "normal", False, False, True), "c@a", False) or "")


def test_csat_is_the_share_of_good_ratings() -> None:
    assert tally([]).csat is None
    assert tally(["good", "good", "okay", "bad", "nonsense"]).csat == 50
    assert tally(["good", "okay", "okay"]).csat == 33
