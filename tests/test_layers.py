"""Layers import downwards only: web → services → core; adapters → core; core imports no I/O; cli is the shell on top
and reaches web only through its app factory. Every package under src/inboxcrm has its rule here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "inboxcrm"

FORBIDDEN = {
    "core": (
        "inboxcrm.services",
        "inboxcrm.adapters",
        "inboxcrm.web",
        "inboxcrm.bootstrap",
        "inboxcrm.cli",
        "inboxcrm.config",
        "sqlalchemy",
        "alembic",
        "fastapi",
        "starlette",
        "uvicorn",
        "imapclient",
        "imaplib",
        "aiosmtplib",
        "smtplib",
        "apscheduler",
        "socket",
        "ssl",
        "asyncio",
        "httpx",
        "requests",
        "urllib.request",
        "subprocess",
        "threading",
        "time",
        "os",
        "pathlib",
        "logging",
    ),
    "services": (
        "inboxcrm.adapters",
        "inboxcrm.web",
        "inboxcrm.bootstrap",
        "inboxcrm.cli",
        "sqlalchemy",
        "fastapi",
        "imapclient",
        "aiosmtplib",
    ),
    "adapters": ("inboxcrm.services", "inboxcrm.web", "inboxcrm.bootstrap", "inboxcrm.cli"),
    "web": ("inboxcrm.adapters", "inboxcrm.bootstrap", "inboxcrm.cli", "sqlalchemy", "imapclient"),
    # settings: TOML → validated values; built on core only, so every layer above may read them
    "config": (
        "inboxcrm.services",
        "inboxcrm.adapters",
        "inboxcrm.web",
        "inboxcrm.bootstrap",
        "inboxcrm.cli",
        "sqlalchemy",
        "fastapi",
        "imapclient",
        "aiosmtplib",
    ),
    # the shell on top: it wires things through bootstrap and may use everything below, but SQL and the mail
    # protocols stay in adapters, and of web it starts only the app (`run` serves it)
    "cli": ("inboxcrm.web", "sqlalchemy", "alembic", "imapclient", "imaplib", "aiosmtplib", "smtplib", "fastapi"),
}
ALLOWED = {"cli": ("inboxcrm.web.app",)}


def matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(layer: str, src: Path = SRC) -> list[str]:
    found = []
    for path in sorted((src / layer).rglob("*.py")):
        for name in imports_of(path):
            if matches(name, FORBIDDEN[layer]) and not matches(name, ALLOWED.get(layer, ())):
                found.append(f"{path.relative_to(src)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    assert violations(layer) == []


def test_every_package_has_a_layer_rule() -> None:
    packages = {path.parent.name for path in SRC.glob("*/__init__.py")}
    assert packages == set(FORBIDDEN)


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import socket\nfrom sqlalchemy import select\nfrom inboxcrm.core import model\n")
    assert imports_of(bad) == {"socket", "sqlalchemy", "inboxcrm.core"}


def test_the_cli_may_start_the_web_app_but_not_reach_into_web(tmp_path: Path) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "serve.py").write_text(
        "from inboxcrm.web.app import create_app\nfrom inboxcrm.web.pages import page_routes\n"
    )
    assert violations("cli", tmp_path) == ["cli/serve.py imports inboxcrm.web.pages"]
