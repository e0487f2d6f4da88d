"""Reading the config file: TOML → `Settings`, or `ConfigError` carrying *every* problem found, each with the
file, the line, the key and what was expected. Secrets come from the environment, never from the file."""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from inboxcrm.config.providers import oauth2_problems
from inboxcrm.config.settings import Settings
from inboxcrm.core.tomlfile import Loc, Problem, closest, key_lines, line_of, parse


class ConfigError(Exception):
    """The config cannot be used; `problems` lists everything that is wrong."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _at(file: str, lines: Mapping[Loc, int], loc: Loc, message: str, hint: str = "") -> Problem:
    return Problem(file, line_of(lines, loc), message, hint, key=_dotted(loc))


def _environment_problems(
    settings: Settings, file: str, lines: Mapping[Loc, int], environ: Mapping[str, str]
) -> list[Problem]:
    problems: list[Problem] = []
    for index, mailbox in enumerate(settings.mailboxes):
        loc: Loc = ("mailboxes", index)
        if mailbox.source == "imap" and mailbox.password_env and not environ.get(mailbox.password_env):
            message = f"environment variable {mailbox.password_env} is not set"
            problems.append(_at(file, lines, (*loc, "password_env"), message))
        for key, message in oauth2_problems(mailbox.oauth2, mailbox.name, environ, settings.resolve):
            problems.append(_at(file, lines, (*loc, "oauth2", key), message))
        if mailbox.ca_file and not settings.resolve(mailbox.ca_file).is_file():
            message = f"no CA certificate at {settings.resolve(mailbox.ca_file)}"
            problems.append(_at(file, lines, (*loc, "ca_file"), message))
        folder = settings.resolve(settings.templates.dir)
        if mailbox.acknowledge and not (folder / f"{mailbox.acknowledge}.subject.j2").is_file():
            message = f"no template {mailbox.acknowledge!r}: expected {folder / mailbox.acknowledge}.subject.j2"
            problems.append(_at(file, lines, (*loc, "acknowledge"), message + " and .text.j2"))
        if mailbox.source == "maildir" and mailbox.path and not settings.resolve(mailbox.path).is_dir():
            message = f"no Maildir at {settings.resolve(mailbox.path)}"
            problems.append(_at(file, lines, (*loc, "path"), message))
    outbox = settings.outbox
    if outbox.transport == "smtp" and outbox.password_env and not environ.get(outbox.password_env):
        message = f"environment variable {outbox.password_env} is not set"
        problems.append(_at(file, lines, ("outbox", "password_env"), message))
    outbox_oauth2 = outbox.oauth2 if outbox.auth == "oauth2" else None
    for key, message in oauth2_problems(outbox_oauth2, "outbox", environ, settings.resolve):
        problems.append(_at(file, lines, ("outbox", "oauth2", key), message))
    if outbox.transport == "smtp" and outbox.ca_file and not settings.resolve(outbox.ca_file).is_file():
        message = f"no CA certificate at {settings.resolve(outbox.ca_file)}"
        problems.append(_at(file, lines, ("outbox", "ca_file"), message))
    secret = settings.security.secret_env
    if secret and not environ.get(secret):
        problems.append(_at(file, lines, ("security", "secret_env"), f"environment variable {secret} is not set"))
    for index, hook in enumerate(settings.webhooks):
        if hook.secret_env and not environ.get(hook.secret_env):
            message = f"environment variable {hook.secret_env} is not set"
            problems.append(_at(file, lines, ("webhooks", index, "secret_env"), message))
    for index, token in enumerate(settings.api.tokens):
        if token.value_env and not environ.get(token.value_env):
            message = f"environment variable {token.value_env} is not set"
            problems.append(_at(file, lines, ("api", "tokens", index, "value_env"), message))
    return problems


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The settings model inside a field's type (`X`, `X | None`, `tuple[X, ...]`, `dict[str, X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _keys_at(loc: Loc) -> tuple[str, ...]:
    """The keys the settings allow beside the key at `loc` (for "did you mean"); empty when unknown."""
    model: type[BaseModel] | None = Settings
    in_dict = False  # the next part is a key of a dict of settings (sla.targets.high), not a field
    for part in loc[:-1]:
        if isinstance(part, int) or in_dict:
            in_dict = False
            continue
        field = model.model_fields.get(part) if model is not None else None
        annotation = field.annotation if field is not None else None
        in_dict = typing.get_origin(annotation) is dict
        model = _model_in(annotation)
    if model is None:
        return ()
    return tuple(name for name in model.model_fields if name != "base_dir")


def _validation_problem(file: str, lines: Mapping[Loc, int], error: Mapping[str, Any]) -> Problem:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        meant = closest(str(loc[-1]), _keys_at(loc)) if loc else None
        hint = f"did you mean {meant!r}?" if meant else "check the spelling against config.example.toml"
        return _at(file, lines, loc, "unknown key", hint)
    if "input" in error and error["type"] != "missing" and not isinstance(error["input"], dict):
        got = repr(error["input"])
        if got not in message:  # a validator of ours may have named the value already
            message += f" (got {got})"
    return _at(file, lines, loc, message)


def parse_settings(text: str, file: str, environ: Mapping[str, str], check_environment: bool = True) -> Settings:
    """Validate TOML `text` (read from `file`); raise ConfigError listing every problem."""
    data = parse(text, file)
    if isinstance(data, Problem):
        raise ConfigError([data])
    lines = key_lines(text)
    data["base_dir"] = str(Path(file).resolve().parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_validation_problem(file, lines, error) for error in exc.errors()]) from None
    if check_environment:
        problems = _environment_problems(settings, file, lines, environ)
        if problems:
            raise ConfigError(problems)
    return settings


def load_settings(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None, check_environment: bool = True
) -> Settings:
    """Read and validate the config file at `path`."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(file, None, f"cannot read the config file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, None, f"the config file is not UTF-8: {exc}")]) from None
    return parse_settings(text, file, os.environ if environ is None else environ, check_environment)
