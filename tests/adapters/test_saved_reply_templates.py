"""Saved replies as templates: `replies/NAME.j2` alone (no subject), listed, checked like the others."""

from __future__ import annotations

from pathlib import Path

from inboxcrm.adapters.templates import Templates
from inboxcrm.core import saved_replies

SHIPPED = Path(__file__).resolve().parents[2] / "templates"


def test_a_saved_reply_is_one_file_and_renders_without_a_subject(tmp_path: Path) -> None:
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "thanks.j2").write_text("Thanks, {{ contact.first_name }}!\n")
    templates = Templates(tmp_path)
    assert templates.load() == []
    assert templates.saved_replies() == ["thanks"]
    rendered = templates.render("replies/thanks", saved_replies.SAMPLE)
    assert (rendered.subject, rendered.text) == ("", "Thanks, Ada!\n")


def test_a_misspelt_field_in_a_saved_reply_is_a_problem_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "oops.j2").write_text("Hi,\n{{ ticket.nmber }}\n")
    templates = Templates(tmp_path)
    (problem,) = templates.check("replies/oops", saved_replies.SAMPLE)
    assert problem.file.endswith("replies/oops.j2") and problem.line == 2 and "nmber" in problem.message


def test_the_shipped_saved_replies_render_with_sample_data() -> None:
    templates = Templates(SHIPPED)
    assert templates.load() == []
    assert set(templates.saved_replies()) >= {"refund-policy", "password-reset", "need-details"}
    for name in templates.saved_replies():
        assert templates.check(saved_replies.template_name(name), saved_replies.SAMPLE) == []
    text = templates.render("replies/refund-policy", saved_replies.SAMPLE).text
    assert text.startswith("Hi Ada,") and "order A-1042" in text
