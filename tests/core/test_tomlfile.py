"""A TOML file we check: the line of every key, syntax errors on the line to look at, problems and hints."""

from __future__ import annotations

import pytest

from inboxcrm.core.tomlfile import Checker, FilesInvalid, Problem, key_lines, line_of, parse, suggest


def test_key_lines() -> None:
    text = '[[a]]\nx = 1\n[[a]]\n[a.b]\ny.z = [\n  1,\n  { w = 2 },\n]\n[[a.c]]\nv = "s#"\n'
    lines = key_lines(text)
    assert lines[("a", 0)] == 1 and lines[("a", 0, "x")] == 2 and lines[("a", 1)] == 3
    assert lines[("a", 1, "b", "y", "z", 0)] == 6 and lines[("a", 1, "b", "y", "z", 1, "w")] == 7
    assert lines[("a", 1, "c", 0, "v")] == 10


def test_tables_and_arrays_of_tables() -> None:
    text = "\n".join(
        [
            "top = 1",  # 1
            "[database]",  # 2
            'url = "x"',  # 3
            "",  # 4
            "[[mailboxes]]",  # 5
            'name = "support"',  # 6
            "[[mailboxes]]",  # 7
            'name = "sales"',  # 8
            "[mailboxes.extra]",  # 9: a sub-table of the second mailbox
            "on = true",  # 10
            "  [ sla . targets ]  # spaces and a comment",  # 11
            'high = { first_response = "1h" }',  # 12
        ]
    )
    lines = key_lines(text)
    assert lines[("top",)] == 1 and lines[("database",)] == 2 and lines[("database", "url")] == 3
    assert lines[("mailboxes", 0)] == 5 and lines[("mailboxes", 0, "name")] == 6
    assert lines[("mailboxes", 1)] == 7 and lines[("mailboxes", 1, "name")] == 8
    assert lines[("mailboxes", 1, "extra", "on")] == 10
    assert lines[("sla", "targets")] == 11 and lines[("sla", "targets", "high", "first_response")] == 12


def test_inline_tables_dotted_and_quoted_keys() -> None:
    text = "\n".join(
        [
            "[[rule]]",  # 1
            'when.subject.contains = "x"',  # 2
            "when.header.'X-Priority' = \"1\"",  # 3
            'when."In-Reply-To" = { exists = false }',  # 4
            'then = { queue = "billing" }',  # 5
            "[rule.deal]",  # 6
            '"na\\u006De" = "Acme"',  # 7: an escaped quoted key is read as the key
        ]
    )
    assert parse(text, "r.toml") == {
        "rule": [
            {
                "when": {"subject": {"contains": "x"}, "header": {"X-Priority": "1"}, "In-Reply-To": {"exists": False}},
                "then": {"queue": "billing"},
                "deal": {"name": "Acme"},
            }
        ]
    }
    lines = key_lines(text)
    assert lines[("rule", 0, "when")] == 2 and lines[("rule", 0, "when", "subject", "contains")] == 2
    assert lines[("rule", 0, "when", "header", "X-Priority")] == 3
    assert lines[("rule", 0, "when", "In-Reply-To", "exists")] == 4
    assert lines[("rule", 0, "then", "queue")] == 5 and lines[("rule", 0, "deal", "name")] == 7


def test_multi_line_arrays_and_strings() -> None:
    text = "\n".join(
        [
            "a = [",  # 1
            "  'one',  # a comment with ] and \" in it",  # 2
            '  """two',  # 3: a multi-line string holding a bracket and a key-like line
            "b = [",  # 4
            '""",',  # 5
            "  { c = 3 },",  # 6
            "]",  # 7
            "d = '''",  # 8
            "e = 5",  # 9: inside the string, not a key
            "'''",  # 10
            "f = 6",  # 11
        ]
    )
    data = parse(text, "x.toml")
    assert isinstance(data, dict) and data["a"][1] == "two\nb = [\n" and set(data) == {"a", "d", "f"}
    lines = key_lines(text)
    assert lines[("a", 0)] == 2 and lines[("a", 1)] == 3 and lines[("a", 2, "c")] == 6
    assert lines[("d",)] == 8 and lines[("f",)] == 11
    assert ("b",) not in lines and ("e",) not in lines


def test_a_key_without_a_line_of_its_own_takes_its_table_s() -> None:
    lines = key_lines('[[rule]]\nname = "r"\nthen = { queue = "x" }\n')
    assert line_of(lines, ("rule", 0, "then", "queue", "deeper")) == 3
    assert line_of(lines, ("rule", 0, "when", "subject")) == 1
    assert line_of(lines, ("nowhere",)) is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("a = 1\nb = [\n  1,\n  2\nc = 3\n", 2, "not valid TOML: Unclosed array", id="unclosed array"),
        pytest.param("a = [[1, 2], [3]\nb = 1\n", 1, "not valid TOML: Unclosed array", id="unclosed outer array"),
        pytest.param('x = 1\na = ["]", # ]\n  2\nb = 1\n', 2, "not valid TOML: Unclosed array", id="brackets in text"),
        pytest.param("a = 1\nb = { c = 1\n", 2, "not valid TOML: Unclosed inline table", id="unclosed inline table"),
        pytest.param("a = 1\nb = [1,\n2,\n", 2, "not valid TOML: Invalid value", id="open at the end"),
        pytest.param("[[campaign]]\nname = 'x\n", 2, 'not valid TOML: Expected "\'"', id="unclosed string"),
        pytest.param('a = 1\nb = """x\n\n', 2, "not valid TOML: Unterminated string", id="open multi-line string"),
        pytest.param('a = 1\nb = "x" y\n', 2, "not valid TOML: Expected newline or end of document", id="junk"),
    ],
)
def test_a_syntax_error_names_the_line_to_look_at(text: str, line: int, message: str) -> None:
    problem = parse(text, "f.toml", hint="check it")
    assert isinstance(problem, Problem)
    assert (problem.file, problem.line, problem.hint) == ("f.toml", line, "check it")
    assert problem.message.startswith(message) and "(at " not in problem.message


def test_a_problem_reads_file_line_key_message_and_hint() -> None:
    assert str(Problem("c.toml", 4, "unknown key", "did you mean 'folders'?", key="mailboxes[0].folderz")) == (
        "c.toml:4: mailboxes[0].folderz: unknown key (did you mean 'folders'?)"
    )
    assert str(Problem("c.toml", None, "cannot read the file")) == "c.toml: cannot read the file"
    assert str(FilesInvalid([Problem("a", 1, "x"), Problem("b", 2, "y", "z")])) == "a:1: x\nb:2: y (z)"


def test_a_checker_reports_problems_on_their_keys_lines() -> None:
    problems: list[Problem] = []
    checker = Checker("s.toml", problems)
    data = checker.parse('[[segment]]\nname = "x"\nwhen.stage = "lead"\n')
    assert data is not None and checker.line(("segment", 0, "when", "stage")) == 3
    checker.problem(("segment", 0, "when", "stage"), "unknown stage 'lead'", "expected one of: mql")
    assert checker.parse("[[segment]\n") is None
    assert [str(p) for p in problems] == [
        "s.toml:3: unknown stage 'lead' (expected one of: mql)",
        "s.toml:1: not valid TOML: Expected ']]' at the end of an array declaration "
        "(check quotes, brackets and commas on that line)",
    ]


def test_suggest() -> None:
    assert suggest("folderz", ["folders", "host"]) == "did you mean 'folders'?"
    assert suggest("HOST", ["folders", "host"]) == "did you mean 'host'?"
    assert suggest("zzz", ["lead", "customer"]) == "expected one of: customer, lead"
    assert suggest("zzz", ["lead", "customer"], in_order=True) == "expected one of: lead, customer"
    assert suggest("zzz", [], "stage") == "no stages are defined" and suggest("zzz", []) == ""
    assert suggest("zzz", [f"n{i:02}" for i in range(20)]).endswith("n11, …")


def test_a_file_of_tables_reports_everything_else_at_the_top() -> None:
    problems: list[Problem] = []

    def tables(text: str) -> list[tuple[dict[str, object], tuple[str | int, ...]]]:
        checker = Checker("s.toml", problems)
        data = checker.parse(text)
        assert data is not None
        return checker.array_of_tables(data, "segment", ("name", "when"))

    assert tables('name = "x"\nsegmnt = 1\n[[segment]]\nname = "a"\n[[segment]]\n') == [
        ({"name": "a"}, ("segment", 0)),
        ({}, ("segment", 1)),
    ]
    assert tables('[segment]\nname = "a"\n') == []
    assert tables("segment = [\n  1,\n]\n") == []
    assert tables("segment = true\n") == []
    assert [str(p) for p in problems] == [
        "s.toml:1: unknown key 'name' at the top of the file (start each segment with a [[segment]] line)",
        "s.toml:2: unknown key 'segmnt' at the top of the file (did you mean 'segment'?)",
        "s.toml:1: `[segment]` is a single table (write [[segment]] (double brackets) for each segment)",
        "s.toml:2: a segment must be a table, got 1 (write each segment as [[segment]])",
        "s.toml:1: `segment` must be a list of tables, got True (start each segment with [[segment]])",
    ]
