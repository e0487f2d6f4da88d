"""Mail templates kept in a folder (usually a git checkout marketers and support leads edit), rendered by Jinja.

A template NAME is `NAME.subject.j2` (one line), `NAME.text.j2` (plain-text body) and optionally `NAME.html.j2`
(HTML body, autoescaped). NAME is made of letters, digits, `_ . -`, and includes its subfolder
(`campaigns/trial-nurture-1`). A saved reply is one file, `replies/NAME.j2` (plain text; it goes out under
the ticket's subject). Files or folders whose name starts with `_` are partials for `{% include %}`
and `{% import %}` (`_footer.text.j2`, `_partials/signature.html.j2`), not templates. Files are UTF-8.

Templates run in Jinja's immutable sandbox with `StrictUndefined`: a misspelt variable is an error, not an
empty string, and every error comes back as a `TemplateError` naming the file and line. Pass plain data in the
context — dicts, lists, strings, numbers, dataclasses. The sandbox stops access to Python internals (`_`-names)
and the mutating methods of dict/list/set, but any *public* method of an object you pass in can be called by a
template, so never pass ORM objects, sessions or services.

`None` renders as an empty string (a mail never says "Hi None"). The rendered subject is always one header-safe
line; it is not decoded, so a literal `=?utf-8?q?...?=` in it stays literal text.
"""

from __future__ import annotations

import difflib
import os
import re
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateNotFound, TemplateSyntaxError, UndefinedError, select_autoescape
from jinja2.environment import Environment
from jinja2.exceptions import SecurityError
from jinja2.loaders import FileSystemLoader, split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

# `Rendered` lives with the ports so the services can name it; re-exported here for callers of this adapter.
from inboxcrm.core import saved_replies
from inboxcrm.core.ports import Rendered

SUBJECT, TEXT, HTML = ".subject.j2", ".text.j2", ".html.j2"
MAX_SUBJECT = 998  # RFC 5322's line limit; longer subjects are cut
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
# C0 and C1 controls (CR, LF, NEL, TAB, NUL…), DEL, the Unicode line/paragraph separators, and plain spaces:
# a run of them becomes one space, so nothing from a contact's data can start a new header line.
_LINE_BREAKING = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")
_TAGS = re.compile(r"\{[{%](.*?)[}%]\}")
_NO_ATTRIBUTE = re.compile(r"^'[^']+' has no attribute '(\w+)'$")


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One thing wrong with a template file, with the line when we know it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class TemplateError(Exception):
    """A template cannot be rendered; `problems` says where and why."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def first_name(value: object) -> str:
    """The first word of a person's name ("Ada" for "Ada Lovelace" or "Lovelace, Ada"); "" when there is none.

    An address used as a name gives "", so `{{ contact.name | first_name | default("there", true) }}` reads well.
    """
    if value is None:
        return ""
    name = str(value).strip().strip("\"'").strip()
    family, comma, given = name.partition(",")
    # "Lovelace, Ada" is how directories (Outlook, Exchange) write display names.
    if comma and len(family.split()) == 1 and given.strip():
        name = given
    words = name.split()
    if not words or "@" in words[0]:
        return ""
    return words[0]


def one_line(value: str) -> str:
    """`value` as a single header-safe line: control characters and line breaks become a space, trimmed, cut
    to MAX_SUBJECT characters."""
    return _LINE_BREAKING.sub(" ", value).strip()[:MAX_SUBJECT].rstrip()


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


class _OutsideFolder(TemplateNotFound):
    """A file in the folder that is a symbolic link to somewhere outside it."""


class _FolderLoader(FileSystemLoader):
    """A FileSystemLoader that refuses files resolving outside its folder and remembers the sources it read."""

    def __init__(self, directory: Path) -> None:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order mark; it is not part of the text.
        super().__init__(directory, encoding="utf-8-sig")
        self.root = directory.resolve()
        self.sources: dict[str, str] = {}

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        # split_template_path already refuses `..`; a symbolic link is the other way out of the folder.
        target = Path(self.searchpath[0], *split_template_path(template)).resolve()
        if not target.is_relative_to(self.root):
            raise _OutsideFolder(template)
        source, filename, uptodate = super().get_source(environment, template)
        self.sources[filename] = source
        return source, filename, uptodate


@dataclass(frozen=True, slots=True)
class _Parts:
    subject: Template | None  # None for a saved reply (replies/NAME.j2): it goes out under the ticket's subject
    text: Template
    html: Template | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    templates: Mapping[str, _Parts]
    sources: Mapping[str, str]  # file → text, to point at the exact spot in error messages


def _environment(loader: _FolderLoader) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_blank_none,
        # Every file is compiled by load() and kept: renders never read the disk, so a half-finished edit
        # cannot leak into mail until the next successful load().
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["first_name"] = first_name
    return env


def _kind(relative: str) -> str | None:
    return next((kind for kind in (SUBJECT, TEXT, HTML) if relative.endswith(kind)), None)


def _undecodable_line(path: str) -> int | None:
    """The line of the first byte that is not UTF-8, if there is one."""
    try:
        data = Path(path).read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[: exc.start].count(b"\n") + 1
    return None


def _attribute_message(message: str, source_line: str | None) -> str:
    """Name the variable in "'dict object' has no attribute 'x'" when the line shows which one it is."""
    match = _NO_ATTRIBUTE.match(message)
    if not match or source_line is None:
        return message
    attribute = match.group(1)
    owner = re.compile(rf"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(?:\.\s*{attribute}\b|\[\s*['\"]{attribute}['\"]\s*\])")
    owners = {found for tag in _TAGS.findall(source_line) for found in owner.findall(tag)}
    if len(owners) != 1:
        return message
    return f"{owners.pop()!r} has no attribute {attribute!r}"


class Templates:
    """The templates in one folder. load() compiles them all; render() uses the last set that loaded cleanly."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._compiled: _Compiled | None = None
        self._tried = False
        self._last_problems: tuple[TemplateProblem, ...] = ()
        self._lock = threading.Lock()

    def _path(self, relative: str) -> str:
        # The same spelling Jinja gives the file, so load and render problems name files alike.
        return os.path.normpath(os.path.join(str(self.directory), relative))

    def _current(self) -> _Compiled | None:
        if not self._tried:
            self.load()
        return self._compiled

    def names(self) -> list[str]:
        """The names render() accepts, sorted (loading the folder on first use)."""
        compiled = self._current()
        return sorted(compiled.templates) if compiled else []

    def saved_replies(self) -> list[str]:
        """The saved replies' names (`replies/refund-policy.j2` is "refund-policy"), sorted."""
        prefix = f"{saved_replies.FOLDER}/"
        return [n.removeprefix(prefix) for n in self.names() if n.startswith(prefix)]

    def load(self) -> list[TemplateProblem]:
        """(Re)compile every template; return the problems found. With problems, the last good set stays in use."""
        with self._lock:
            compiled, problems = self._compile()
            self._tried = True
            self._last_problems = tuple(problems)
            if compiled is not None:
                self._compiled = compiled
            return problems

    def _scan(self) -> tuple[dict[str, dict[str, str]], list[str], list[TemplateProblem]]:
        """Template parts by name and kind, partials, and files that are neither."""
        parts: dict[str, dict[str, str]] = {}
        partials: list[str] = []
        problems: list[TemplateProblem] = []
        root = str(self.directory)
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))  # .git and the like
            for file in sorted(files):
                if file.startswith(".") or not file.endswith(".j2"):
                    continue
                relative = Path(os.path.relpath(os.path.join(folder, file), root)).as_posix()
                if any(part.startswith("_") for part in relative.split("/")):
                    partials.append(relative)
                    continue
                kind = _kind(relative)
                name = relative.removesuffix(kind) if kind else ""
                if kind is None and relative.startswith(f"{saved_replies.FOLDER}/"):
                    kind, name = TEXT, relative.removesuffix(".j2")  # a saved reply: one plain-text file
                if kind is None:
                    problems.append(
                        TemplateProblem(
                            self._path(relative),
                            None,
                            f"not part of a template: name it NAME{SUBJECT}, NAME{TEXT} or NAME{HTML} "
                            "(or start it with _ to make it a partial for include)",
                        )
                    )
                elif not _NAME.match(name):
                    problems.append(
                        TemplateProblem(
                            self._path(relative), None, f"{name!r} is not a template name (letters, digits, _ . -)"
                        )
                    )
                else:
                    parts.setdefault(name, {})[kind] = relative
        return parts, partials, problems

    def _compile(self) -> tuple[_Compiled | None, list[TemplateProblem]]:
        """Every template compiled, or None with the problems that stop the folder from loading."""
        if not self.directory.is_dir():
            return None, [TemplateProblem(str(self.directory), None, "no templates folder here")]
        loader = _FolderLoader(self.directory)
        env = _environment(loader)
        parts, partials, problems = self._scan()
        compiled: dict[str, Template] = {}
        for relative in sorted([*(r for kinds in parts.values() for r in kinds.values()), *partials]):
            path = self._path(relative)
            try:
                compiled[relative] = env.get_template(relative)
            except TemplateSyntaxError as exc:
                problems.append(TemplateProblem(path, exc.lineno, exc.message or "syntax error"))
            except UnicodeDecodeError:
                problems.append(
                    TemplateProblem(path, _undecodable_line(path), "not UTF-8 text: save the file as UTF-8")
                )
            except _OutsideFolder:
                problems.append(TemplateProblem(path, None, "a link to a file outside the templates folder"))
            except (OSError, TemplateNotFound) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it disappeared while loading"
                problems.append(TemplateProblem(path, None, f"cannot read the file: {reason}"))
        for name, kinds in sorted(parts.items()):
            for kind, what in ((SUBJECT, "a subject"), (TEXT, "a plain-text body")):
                if kind not in kinds and not (kind == SUBJECT and name.startswith(f"{saved_replies.FOLDER}/")):
                    present = ", ".join(Path(r).name for r in sorted(kinds.values()))
                    problems.append(
                        TemplateProblem(
                            self._path(name + kind),
                            None,
                            f"missing: template {name!r} needs {what} (found only {present})",
                        )
                    )
        if problems:
            return None, problems
        templates = {
            name: _Parts(
                compiled[kinds[SUBJECT]] if SUBJECT in kinds else None,
                compiled[kinds[TEXT]],
                compiled[kinds[HTML]] if HTML in kinds else None,
            )
            for name, kinds in parts.items()
        }
        return _Compiled(templates, loader.sources), []

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Subject, text and HTML of template `name`; raises TemplateError (file:line) rather than render a part."""
        compiled = self._current()
        parts = compiled.templates.get(name) if compiled else None
        if compiled is None or parts is None:
            raise TemplateError([self._unknown(name, compiled)])
        subject = one_line(self._run(parts.subject, context, compiled)) if parts.subject is not None else ""
        text = self._run(parts.text, context, compiled)
        html = self._run(parts.html, context, compiled) if parts.html is not None else None
        return Rendered(subject, text, html)

    def check(self, name: str, context: Mapping[str, Any]) -> list[TemplateProblem]:
        """Render `name` with a sample `context`; the problems found (empty when it renders)."""
        try:
            self.render(name, context)
        except TemplateError as exc:
            return list(exc.problems)
        return []

    def _unknown(self, name: str, compiled: _Compiled | None) -> TemplateProblem:
        known = sorted(compiled.templates) if compiled else []
        message = f"no template named {name!r}"
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        if self._last_problems:
            message += f"; the last load of the folder reported {len(self._last_problems)} problem(s)"
        return TemplateProblem(str(self.directory), None, message)

    def _run(self, template: Template, context: Mapping[str, Any], compiled: _Compiled) -> str:
        try:
            return template.render(context)
        except Exception as exc:  # anything a template does wrong is the template's problem, reported with file:line
            raise TemplateError([self._problem(exc, template, compiled)]) from exc

    def _problem(self, exc: Exception, template: Template, compiled: _Compiled) -> TemplateProblem:
        file, line = template.filename or str(self.directory), None
        if isinstance(exc, TemplateSyntaxError) and exc.filename:  # an include read for the first time
            return TemplateProblem(exc.filename, exc.lineno, exc.message or "syntax error")
        # Jinja rewrites the traceback so template code shows as frames of the template file: the innermost
        # one is where it went wrong (inside an included partial, the partial).
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename in compiled.sources:
                file, line = frame.filename, frame.lineno
        if isinstance(exc, UndefinedError):
            source = compiled.sources.get(file, "").splitlines()
            text = source[line - 1] if line and line <= len(source) else None
            message = _attribute_message(exc.message or "undefined", text)
        elif isinstance(exc, SecurityError):
            message = f"not allowed in a template: {exc}"
        elif isinstance(exc, TemplateNotFound):
            message = f"cannot include {exc.name!r}: no such file in the templates folder"
        else:
            message = f"{type(exc).__name__}: {exc}"
        return TemplateProblem(file, line, message)
