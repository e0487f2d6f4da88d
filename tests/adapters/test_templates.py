"""Mail templates from a folder: rendering, header-safe subjects, the sandbox, and errors with file:line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from inboxcrm.adapters.templates import MAX_SUBJECT, Rendered, TemplateError, TemplateProblem, Templates, first_name


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    company: str | None = None


ADA = Contact("Ada Lovelace", "ada@example.com", "Analytical Engines")


def folder(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def loaded(root: Path, files: dict[str, str | bytes]) -> Templates:
    templates = Templates(folder(root, files))
    assert templates.load() == []
    return templates


def only_problem(excinfo: pytest.ExceptionInfo[TemplateError]) -> TemplateProblem:
    assert len(excinfo.value.problems) == 1
    return excinfo.value.problems[0]


def test_renders_subject_text_and_html_from_dicts_and_dataclasses(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "ack.subject.j2": "We got your message, {{ contact.name | first_name }} [#{{ ticket.id }}]\n",
            "ack.text.j2": "Hi {{ contact.name | first_name }},\n\n{% if ticket.urgent %}\nRight away!\n{% endif %}\n"
            "Ticket {{ ticket.id }} for {{ contact.company }}.\n",
            "ack.html.j2": "<p>Hi {{ contact.name | first_name }}</p>\n",
        },
    )
    rendered = templates.render("ack", {"contact": ADA, "ticket": {"id": 12, "urgent": True}})
    assert rendered == Rendered(
        subject="We got your message, Ada [#12]",
        text="Hi Ada,\n\nRight away!\nTicket 12 for Analytical Engines.\n",
        html="<p>Hi Ada</p>\n",
    )


def test_html_is_optional_and_none_renders_blank(tmp_path: Path) -> None:
    templates = loaded(tmp_path, {"note.subject.j2": "Note", "note.text.j2": "Company: [{{ contact.company }}]"})
    rendered = templates.render("note", {"contact": Contact("Bo", "bo@example.com")})
    assert rendered.html is None
    assert rendered.text == "Company: []"  # never "Company: [None]"


def test_html_escapes_contact_data_but_text_and_subject_do_not(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "t.subject.j2": "About {{ contact.company }}",
            "t.text.j2": "Company: {{ contact.company }}",
            "t.html.j2": "<b>{{ contact.company }}</b>",
        },
    )
    evil = Contact("Eve", "eve@example.com", "<script>alert(1)</script> & Co")
    rendered = templates.render("t", {"contact": evil})
    assert rendered.html == "<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</b>"
    assert rendered.text == "Company: <script>alert(1)</script> & Co"
    assert rendered.subject == "About <script>alert(1)</script> & Co"


@pytest.mark.parametrize(
    ("company", "subject"),
    [
        ("Acme\r\nBcc: x@evil.example", "Offer for Acme Bcc: x@evil.example"),
        ("Acme\nBcc: x@evil.example", "Offer for Acme Bcc: x@evil.example"),
        ("Acme\rBcc: x@evil.example", "Offer for Acme Bcc: x@evil.example"),
        ("Acme\u2028Bcc: x@evil.example", "Offer for Acme Bcc: x@evil.example"),
        ("Acme\u2029\u0085\x0b\x0c\x00Bcc: x@evil.example", "Offer for Acme Bcc: x@evil.example"),
        ("Acme\t \r\n\r\n  ", "Offer for Acme"),
        # An encoded word is text here: it is not decoded into the CR LF it spells.
        ("=?utf-8?q?Acme=0D=0ABcc:_x@evil.example?=", "Offer for =?utf-8?q?Acme=0D=0ABcc:_x@evil.example?="),
    ],
)
def test_subject_is_one_line_whatever_the_contact_data(tmp_path: Path, company: str, subject: str) -> None:
    templates = loaded(tmp_path, {"o.subject.j2": "Offer for {{ company }}\n", "o.text.j2": "{{ company }}"})
    rendered = templates.render("o", {"company": company})
    assert rendered.subject == subject
    assert rendered.subject.splitlines() == [subject]
    assert rendered.text == company  # the body keeps what it was given


def test_subject_written_over_several_lines_and_too_long_still_one_header_line(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "long.subject.j2": "\ufeffNews for\n{% if vip %}\n  our VIP\n{% endif %}\n{{ 'x' * 2000 }}\n",
            "long.text.j2": "body",
        },
    )
    subject = templates.render("long", {"vip": True}).subject
    assert subject.startswith("News for our VIP xxx")  # the byte-order mark some editors write is not text
    assert len(subject) == MAX_SUBJECT
    assert "\n" not in subject


def test_undefined_variable_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    templates = loaded(tmp_path, {"ack.subject.j2": "Thanks", "ack.text.j2": "Hello,\n\nDear {{ contact.nmae }}\n"})
    with pytest.raises(TemplateError) as excinfo:
        templates.render("ack", {"contact": {"name": "Ada"}})
    assert str(only_problem(excinfo)) == f"{tmp_path / 'ack.text.j2'}:3: 'contact' has no attribute 'nmae'"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("{{ contact }}", 1, "'contact' is undefined"),
        ("x\n{{ contact.name }}", 2, "'contact' is undefined"),
        ("x\ny\n{% if vip %}VIP{% endif %}", 3, "'vip' is undefined"),
    ],
)
def test_undefined_names_attribute_access_and_if_tests_all_fail(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    templates = loaded(tmp_path, {"t.subject.j2": "s", "t.text.j2": text})
    assert templates.check("t", {}) == [TemplateProblem(str(tmp_path / "t.text.j2"), line, message)]


def test_is_defined_and_default_still_work(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "t.subject.j2": "s",
            "t.text.j2": "{% if vip is defined %}VIP {% endif %}Hi {{ contact.nickname | default('friend') }}, "
            "{{ contact.name | first_name | default('there', true) }}",
        },
    )
    assert templates.render("t", {"contact": {"name": "ada@example.com"}}).text == "Hi friend, there"
    assert templates.render("t", {"vip": 1, "contact": {"name": "Ada"}}).text == "VIP Hi friend, Ada"


def test_error_in_the_html_part_raises_instead_of_a_partial_result(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path, {"t.subject.j2": "Hi {{ name }}", "t.text.j2": "Hi {{ name }}", "t.html.j2": "<p>{{ 1 / 0 }}</p>"}
    )
    with pytest.raises(TemplateError) as excinfo:
        templates.render("t", {"name": "Ada"})
    problem = only_problem(excinfo)
    assert (problem.file, problem.line) == (str(tmp_path / "t.html.j2"), 1)
    assert "ZeroDivisionError" in problem.message


def test_syntax_error_is_a_load_problem_on_its_line(tmp_path: Path) -> None:
    templates = Templates(
        folder(tmp_path, {"t.subject.j2": "s", "t.text.j2": "one\ntwo\n{% if x %}\nthree\n{% endfor %}\n"})
    )
    [problem] = templates.load()
    assert (problem.file, problem.line) == (str(tmp_path / "t.text.j2"), 5)
    assert "endfor" in problem.message
    assert str(problem).startswith(f"{tmp_path / 't.text.j2'}:5: ")


@pytest.mark.parametrize(
    ("present", "missing"),
    [("welcome.subject.j2", "welcome.text.j2"), ("welcome.text.j2", "welcome.subject.j2")],
)
def test_a_template_needs_a_subject_and_a_text_body(tmp_path: Path, present: str, missing: str) -> None:
    templates = Templates(folder(tmp_path, {present: "x", "welcome.html.j2": "<p>x</p>"}))
    [problem] = templates.load()
    assert problem.file == str(tmp_path / missing)
    assert "'welcome'" in problem.message
    assert templates.names() == []


def test_unknown_template_name(tmp_path: Path) -> None:
    templates = loaded(tmp_path, {"welcome.subject.j2": "s", "welcome.text.j2": "t"})
    with pytest.raises(TemplateError) as excinfo:
        templates.render("welcom", {})
    assert "no template named 'welcom' (did you mean 'welcome'?)" in only_problem(excinfo).message
    assert templates.check("../welcome", {}) != []


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "''.__class__.__mro__[1].__subclasses__()",
        "contact.__class__.__init__.__globals__",
        "contact | attr('__class__')",
        "cycler.__init__.__globals__",
        "self._TemplateReference__context",
        "contact.update({'email': 'x@evil.example'})",
        "tags.append('hacked')",
        "tags.clear()",
    ],
)
def test_sandbox_blocks_internals_and_mutation(tmp_path: Path, expression: str) -> None:
    templates = loaded(tmp_path, {"t.subject.j2": "s", "t.text.j2": "hi\n{{ " + expression + " }}\n"})
    contact = {"email": "ada@example.com"}
    tags = ["lead"]
    with pytest.raises(TemplateError) as excinfo:
        templates.render("t", {"contact": contact, "tags": tags})
    assert (only_problem(excinfo).file, only_problem(excinfo).line) == (str(tmp_path / "t.text.j2"), 2)
    assert contact == {"email": "ada@example.com"}
    assert tags == ["lead"]


def test_partials_are_included_and_errors_in_them_point_at_them(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "ack.subject.j2": "s",
            "ack.text.j2": "Thanks.\n{% include '_partials/signature.text.j2' %}",
            "_partials/signature.text.j2": "-- \n{{ agent.name }}\n",
        },
    )
    assert templates.names() == ["ack"]  # a partial is not a template
    assert templates.render("ack", {"agent": {"name": "Bo"}}).text == "Thanks.\n-- \nBo\n"
    assert templates.check("ack", {}) == [
        TemplateProblem(str(tmp_path / "_partials" / "signature.text.j2"), 2, "'agent' is undefined")
    ]


@pytest.mark.parametrize("target", ["../../etc/passwd", "../secret.txt", "/etc/passwd", "../inside/../secret.txt"])
def test_include_outside_the_folder_fails(tmp_path: Path, target: str) -> None:
    (tmp_path / "secret.txt").write_text("root:x:0:0 SECRET")
    templates = loaded(tmp_path / "templates", {"t.subject.j2": "s", "t.text.j2": "{% include '" + target + "' %}"})
    with pytest.raises(TemplateError) as excinfo:
        templates.render("t", {})
    assert "SECRET" not in str(excinfo.value)
    assert "cannot include" in only_problem(excinfo).message


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("SECRET")
    root = folder(tmp_path / "templates", {"t.subject.j2": "s", "t.text.j2": "{% include '_leak.j2' %}"})
    (root / "_leak.j2").symlink_to(tmp_path / "secret.txt")
    templates = Templates(root)
    [problem] = templates.load()
    assert problem.file == str(root / "_leak.j2")
    assert "outside" in problem.message


def test_reload_with_problems_keeps_the_last_good_set(tmp_path: Path) -> None:
    templates = loaded(tmp_path, {"t.subject.j2": "Hello", "t.text.j2": "version 1"})
    (tmp_path / "t.text.j2").write_text("version 2 {% if %}")
    (tmp_path / "new.subject.j2").write_text("New")  # and no body yet
    problems = templates.load()
    assert {p.file for p in problems} == {str(tmp_path / "t.text.j2"), str(tmp_path / "new.text.j2")}
    assert templates.render("t", {}).text == "version 1"
    assert templates.names() == ["t"]
    (tmp_path / "t.text.j2").write_text("version 3")
    (tmp_path / "new.text.j2").write_text("body")
    assert templates.load() == []
    assert templates.render("t", {}).text == "version 3"
    assert templates.names() == ["new", "t"]


def test_edits_are_not_seen_until_the_next_load(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path, {"t.subject.j2": "s", "t.text.j2": "old {% include '_footer.j2' %}", "_footer.j2": "f1"}
    )
    (tmp_path / "t.text.j2").write_text("new {% include '_footer.j2' %}")
    (tmp_path / "_footer.j2").write_text("f2 {{ oops")  # a half-saved partial must not reach mail
    os.utime(tmp_path / "_footer.j2", (1, 1))  # a different mtime, whatever the file system's resolution
    assert templates.render("t", {}).text == "old f1"


def test_subfolders_name_templates(tmp_path: Path) -> None:
    templates = loaded(
        tmp_path,
        {
            "ack.subject.j2": "a",
            "ack.text.j2": "a",
            "campaigns/trial-nurture-1.subject.j2": "Day 1",
            "campaigns/trial-nurture-1.text.j2": "Welcome aboard",
            "campaigns/q3/v2.promo.subject.j2": "Promo",
            "campaigns/q3/v2.promo.text.j2": "Buy",
            ".git/hooks/x.subject.j2": "not a template",
            "README.md": "how to write templates",
        },
    )
    assert templates.names() == ["ack", "campaigns/q3/v2.promo", "campaigns/trial-nurture-1"]
    assert templates.render("campaigns/trial-nurture-1", {}).subject == "Day 1"


def test_names_load_on_first_use(tmp_path: Path) -> None:
    templates = Templates(folder(tmp_path, {"a.subject.j2": "s", "a.text.j2": "t"}))
    assert templates.names() == ["a"]
    assert templates.render("a", {}).text == "t"


def test_non_utf8_file_is_reported_with_its_line(tmp_path: Path) -> None:
    templates = Templates(
        folder(tmp_path, {"t.subject.j2": "s", "t.text.j2": "Hello\nCaf\xe9 ouvert\n".encode("latin-1")})
    )
    assert templates.load() == [
        TemplateProblem(str(tmp_path / "t.text.j2"), 2, "not UTF-8 text: save the file as UTF-8")
    ]


@pytest.mark.parametrize(
    ("relative", "expected"),
    [("welcome.txt.j2", "not part of a template"), ("summer sale.subject.j2", "not a template name")],
)
def test_misnamed_files_are_reported(tmp_path: Path, relative: str, expected: str) -> None:
    templates = Templates(folder(tmp_path, {"welcome.subject.j2": "s", "welcome.text.j2": "t", relative: "x"}))
    [problem] = templates.load()
    assert problem.file == str(tmp_path / relative)
    assert expected in problem.message


def test_missing_folder_is_a_problem(tmp_path: Path) -> None:
    templates = Templates(tmp_path / "nope")
    assert [p.message for p in templates.load()] == ["no templates folder here"]
    assert templates.check("x", {}) != []


def test_check_returns_problems_instead_of_raising(tmp_path: Path) -> None:
    templates = loaded(tmp_path, {"t.subject.j2": "Hi {{ contact.name }}", "t.text.j2": "x"})
    assert templates.check("t", {"contact": {"name": "Ada"}}) == []
    assert templates.check("t", {"contact": {}}) == [
        TemplateProblem(str(tmp_path / "t.subject.j2"), 1, "'contact' has no attribute 'name'")
    ]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Ada Lovelace", "Ada"),
        ("  ada  ", "ada"),
        ('"Ada Lovelace"', "Ada"),
        ("Lovelace, Ada", "Ada"),
        ("Ada Lovelace, PhD", "Ada"),
        ("ada@example.com", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_first_name(name: str | None, first: str) -> None:
    assert first_name(name) == first
