"""Commands agents write at the top of a reply: `#close`, `#assign ana`, `#snooze 3d`, `#note`, …

Agents answer tickets from their own mail client, so the reply itself carries what should happen to the
ticket. `read_commands` reads the command block at the top of the new text of a reply (quotes already
removed by the caller) and returns the commands, the body the customer would receive, and every problem.

The block: leading blank lines are skipped; each line whose first token is `#` followed by a letter is a
command attempt; blank lines between commands are allowed; the first other line ends the block and starts
the body (`#1 priority for us…` and `# heading` are ordinary text). Command names are case-insensitive.
`#note` followed by text on its line (`#note Her card was charged twice`) also ends the block: that text and
everything after it is the note's body.

Pure: agents, priorities, the time and the timezone are passed in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# canonical name → (usage, what it does); the order is the order of the help text.
_HELP: dict[str, tuple[str, str]] = {
    "close": ("#close", "mark the ticket solved (also #solve)"),
    "pending": ("#pending", "wait for the customer: the ticket is pending"),
    "open": ("#open", "reopen the ticket"),
    "assign": ("#assign NAME", "assign the ticket to an agent; '#assign me' takes it yourself"),
    "priority": ("#priority LEVEL", "set the priority to one of the configured levels"),
    "tag": ("#tag TAG…", "add tags, separated by spaces or commas (letters, digits, _ . : -)"),
    "untag": ("#untag TAG…", "remove tags"),
    "note": ("#note [TEXT]", "this reply (text after #note included) is an internal note, never sent to the customer"),
    "snooze": ("#snooze WHEN", "pending until 30m, 4h, 3d, 2w from now, or a date such as 2026-12-01"),
    "spam": ("#spam", "the ticket is spam: close it"),
    "reply": ("#reply NAME", "send the saved reply NAME (templates/replies/NAME.j2), then your own text"),
    "send": ("#send", "answering a held reply's notice: send your held reply anyway"),
}
_ALIASES = {"solve": "close"}
NAMES: tuple[str, ...] = tuple(_HELP)

COMMANDS = "\n".join(f"{usage:<16} {what}" for usage, what in _HELP.values())
"""One line per command with what it does, for the mail that tells an agent about a problem."""

_STATUS = {"close": "solved", "pending": "pending", "snooze": "pending", "open": "open", "spam": "closed"}
_NO_ARGUMENTS = frozenset({"close", "pending", "open", "note", "spam", "send"})

_ATTEMPT = re.compile(r"#[^\W\d_]")
_NOTE_WITH_TEXT = re.compile(r"#note(?::|\s)\s*(?=\S)", re.IGNORECASE)
_TAG = re.compile(r"[\w.:-]{1,50}")
_REPLY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_SPLIT_TAGS = re.compile(r"[\s,]+")
_DURATION = re.compile(r"([0-9]+)([mhdw])", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
MAX_SNOOZE = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Command:
    """One understood command. `values`: assign → (agent,), priority → (level,), tag/untag → tags.
    `until` (snooze only) is aware UTC. `line` is 1-based in the text given to `read_commands`."""

    name: str
    values: tuple[str, ...] = ()
    until: datetime | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class CommandProblem:
    """A command line that cannot be carried out: `text` is the line as written, `message` what would be right."""

    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}\n  {self.message}"


@dataclass(frozen=True, slots=True)
class AgentReply:
    """An agent's reply read: the commands understood, the body the customer would receive, and the problems.

    Contradicting commands are left out of `commands` and reported, so `commands` never contradict each
    other; callers should carry out nothing and send `describe(problems)` back when `problems` is non-empty."""

    commands: tuple[Command, ...]
    body: str
    problems: tuple[CommandProblem, ...]

    @property
    def is_note(self) -> bool:
        """`#note` was given: the reply is internal and never sent to the customer."""
        return any(c.name == "note" for c in self.commands)

    @property
    def saved_reply(self) -> str | None:
        """The saved reply `#reply NAME` asks for, or None."""
        return next((c.values[0] for c in self.commands if c.name == "reply"), None)

    @property
    def send_held(self) -> bool:
        """`#send` was given: the agent's held reply goes to the customer after all."""
        return any(c.name == "send" for c in self.commands)

    @property
    def status(self) -> str | None:
        """The ticket status the commands ask for (solved, pending, open, closed), or None to leave it."""
        for command in self.commands:
            if command.name in _STATUS:
                return _STATUS[command.name]
        return None


def read_commands(
    text: str,
    *,
    sender: str,
    agents: Collection[str],
    priorities: Sequence[str],
    now: datetime,
    timezone: str,
) -> AgentReply:
    """Read the command block at the top of `text`. `sender` is the agent writing (`#assign me`); agent
    and priority names match case-insensitively and come back as configured. A naive `now` is read as UTC;
    ISO dates in `#snooze` are midnight in `timezone`."""
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    reader = _Reader(sender, agents, priorities, aware.astimezone(UTC), timezone)
    lines = text.splitlines(keepends=True)
    body_start = len(lines)
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped:
            continue
        if not _ATTEMPT.match(stripped):
            body_start = index
            break
        note = _NOTE_WITH_TEXT.match(stripped)
        if note:
            # `#note <text>`: the text on this line and every line after it are the note
            reader.read(index + 1, "#note")
            body = raw.lstrip()[note.end() :] + "".join(lines[index + 1 :])
            return AgentReply(tuple(reader.commands), body, tuple(reader.problems))
        reader.read(index + 1, stripped)
    body = "".join(lines[body_start:])
    sending = next((c for c in reader.commands if c.name == "send"), None)
    if sending is not None and body.strip():
        # #send releases the reply as it was held; new text would go unseen or unsent, so say so (and a line
        # is either a command or a problem, never both)
        reader.commands.remove(sending)
        reader.problem(
            sending.line,
            "#send",
            "#send sends your held reply as it was, so write nothing below it; "
            "to say something else, answer without #send",
        )
    return AgentReply(tuple(reader.commands), body, tuple(reader.problems))


def describe(problems: Sequence[CommandProblem]) -> str:
    """Plain text for the mail back to the agent: each problem with its line, then the valid commands.
    Empty when there are no problems."""
    if not problems:
        return ""
    listed = "\n".join(str(p) for p in problems)
    return f"{listed}\n\nCommands go at the top of your reply, one per line (names in any case):\n{COMMANDS}\n"


class _Reader:
    """Reads command lines one at a time, remembering what earlier lines asked for to catch contradictions."""

    def __init__(
        self, sender: str, agents: Collection[str], priorities: Sequence[str], now: datetime, timezone: str
    ) -> None:
        self.sender = sender
        self.agents = {a.lower(): a for a in agents}
        self.agent_list = ", ".join(sorted(agents)) or "none configured"
        self.priorities = {p.lower(): p for p in priorities}
        self.priority_list = ", ".join(priorities) or "none configured"
        self.now = now
        self.zone = ZoneInfo(timezone)
        self.commands: list[Command] = []
        self.problems: list[CommandProblem] = []
        # what a single-valued setting was first set to: key → (value, line, text)
        self.first: dict[str, tuple[object, int, str]] = {}
        self.tagged: dict[str, tuple[bool, int, str]] = {}
        self.parsers: dict[str, Callable[[list[str]], Command | str]] = {
            "assign": self._assign,
            "priority": self._priority,
            "tag": self._tags("tag"),
            "untag": self._tags("untag"),
            "snooze": self._snooze,
            "reply": self._reply,
        }

    def read(self, line: int, text: str) -> None:
        token, *arguments = text.split()
        written = token[1:].lower()
        name = _ALIASES.get(written, written)
        if name not in _HELP:
            self.problem(line, text, _unknown(token))
            return
        if name in _NO_ARGUMENTS:
            if arguments:
                self.problem(line, text, f"{token} takes no arguments: write {token} alone on its line")
                return
            parsed: Command | str = Command(name)
        else:
            parsed = self.parsers[name](arguments)
        if isinstance(parsed, str):
            self.problem(line, text, parsed)
            return
        command = Command(parsed.name, parsed.values, parsed.until, line)
        clash = self.contradiction(command, text)
        if clash:
            self.problem(line, text, clash)
        else:
            self.commands.append(command)

    def problem(self, line: int, text: str, message: str) -> None:
        self.problems.append(CommandProblem(line, text, message))

    def contradiction(self, command: Command, text: str) -> str | None:
        """Why `command` contradicts an earlier command, or None; only a command carried out is remembered.
        Repeating the same thing is fine."""
        settings: list[tuple[str, object]] = []
        if command.name in _STATUS:
            settings.append(("status", _STATUS[command.name]))
        if command.name == "snooze":
            settings.append(("snooze", command.until))
        if command.name in ("assign", "priority", "reply"):
            settings.append((command.name, command.values))
        if command.name in ("note", "reply", "send"):
            # where the reply goes: inside (#note), a saved reply to the customer, or a held reply released
            settings.append(("destination", command.name))
        written = text.split(maxsplit=1)[0]
        for key, value in settings:
            earlier = self.first.get(key)
            if earlier and earlier[0] != value:
                return f"{written} contradicts '{earlier[2]}' on line {earlier[1]}: keep only one of them"
        adding = command.name == "tag"
        tags = command.values if command.name in ("tag", "untag") else ()
        for tag in tags:
            was = self.tagged.get(tag)
            if was and was[0] != adding:
                return f"{written} contradicts '{was[2]}' on line {was[1]}: cannot add and remove tag {tag!r}"
        for key, value in settings:
            self.first.setdefault(key, (value, command.line, text))
        for tag in tags:
            self.tagged.setdefault(tag, (adding, command.line, text))
        return None

    def _assign(self, arguments: list[str]) -> Command | str:
        if len(arguments) != 1:
            given = f", not {' '.join(arguments)!r}" if arguments else ""
            return f"#assign takes one agent name or 'me'{given} (agents: {self.agent_list})"
        wanted = arguments[0]
        if wanted.lower() == "me":
            agent = self.agents.get(self.sender.lower())
            if agent is None:
                return f"'me' is {self.sender!r}, who is not an agent (agents: {self.agent_list})"
            return Command("assign", (agent,))
        agent = self.agents.get(wanted.lower())
        if agent is None:
            return f"unknown agent {wanted!r} (agents: {self.agent_list})"
        return Command("assign", (agent,))

    def _reply(self, arguments: list[str]) -> Command | str:
        if len(arguments) != 1 or not _REPLY_NAME.fullmatch(arguments[0]):
            given = f", not {' '.join(arguments)!r}" if arguments else ""
            return f"#reply takes the name of one saved reply{given}, e.g. '#reply refund-policy'"
        return Command("reply", (arguments[0],))

    def _priority(self, arguments: list[str]) -> Command | str:
        if len(arguments) != 1:
            given = f", not {' '.join(arguments)!r}" if arguments else ""
            return f"#priority takes one level{given} (priorities: {self.priority_list})"
        level = self.priorities.get(arguments[0].lower())
        if level is None:
            return f"unknown priority {arguments[0]!r} (priorities: {self.priority_list})"
        return Command("priority", (level,))

    def _tags(self, name: str) -> Callable[[list[str]], Command | str]:
        def parse(arguments: list[str]) -> Command | str:
            tags = [t for t in _SPLIT_TAGS.split(" ".join(arguments)) if t]
            if not tags:
                return f"#{name} needs at least one tag, e.g. '#{name} billing' or '#{name} billing, vip'"
            bad = [t for t in tags if not _TAG.fullmatch(t)]
            if bad:
                listed = ", ".join(repr(t) for t in bad)
                return f"bad tag {listed}: a tag is 1 to 50 letters, digits, '_', '.', ':' or '-'"
            return Command(name, tuple(dict.fromkeys(tags)))

        return parse

    def _snooze(self, arguments: list[str]) -> Command | str:
        usage = "use 30m, 4h, 3d, 2w or a date such as 2026-12-01"
        if len(arguments) != 1:
            given = f"one duration or date, not {' '.join(arguments)!r}" if arguments else "a duration or a date"
            return f"#snooze needs {given}: {usage}"
        when = arguments[0]
        duration = _DURATION.fullmatch(when)
        if duration:
            digits, unit = duration.groups()
            # checked before building a timedelta (or an int from thousands of digits), which would raise
            minutes = int(digits) * _UNIT_MINUTES[unit.lower()] if len(digits) <= 9 else None
            if minutes is None or minutes > MAX_SNOOZE // timedelta(minutes=1):
                return f"snooze {when!r} is more than 365 days away"
            until = self.now + timedelta(minutes=minutes)
        elif _DATE.fullmatch(when):
            try:
                day = date.fromisoformat(when)
            except ValueError:
                return f"{when!r} is not a date: {usage}"
            today = self.now.astimezone(self.zone).date()
            # whole days first: far-off years would overflow when converted to UTC
            if day - today > MAX_SNOOZE + timedelta(days=1):
                return f"snooze {when!r} is more than 365 days away"
            if day < today:
                return f"snooze {when!r} is in the past: it must be in the future"
            until = datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(UTC)
        else:
            return f"cannot read {when!r} as a snooze time: {usage}"
        if until <= self.now:
            return f"snooze {when!r} is not in the future: it must be later than now"
        if until - self.now > MAX_SNOOZE:
            return f"snooze {when!r} is more than 365 days away"
        return Command("snooze", until=until)


def _unknown(token: str) -> str:
    names = [*NAMES, *_ALIASES]
    close = difflib.get_close_matches(token[1:].lower(), names, n=1)
    hint = f"did you mean #{close[0]}?" if close else "commands: " + ", ".join(f"#{n}" for n in names)
    return f"unknown command {token!r} ({hint})"
