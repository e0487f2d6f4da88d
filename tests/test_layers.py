"""Layers import downwards only: web → services → core; adapters → core; core imports no I/O."""

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
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(layer: str) -> list[str]:
    found = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in imports_of(path):
            for banned in FORBIDDEN[layer]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    assert violations(layer) == []


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import socket\nfrom sqlalchemy import select\nfrom inboxcrm.core import model\n")
    assert imports_of(bad) == {"socket", "sqlalchemy", "inboxcrm.core"}
