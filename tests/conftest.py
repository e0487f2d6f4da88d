"""Shared fixtures. Servers the tests need are started here or the test fails loudly: nothing skips."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.store import make_engine
from inboxcrm.config import Settings, parse_settings
from tests.support.browser import chromium  # noqa: F401  (registers the fixture)
from tests.support.dovecot import Dovecot, dovecot_server  # noqa: F401  (an imported fixture is registered)
from tests.support.smtpd import smtp_server  # noqa: F401  (registers the fixture)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "INBOXCRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The shared real-mail corpora (../shared/corpora or $INBOXCRM_CORPORA)."""
    path = Path(os.environ.get("INBOXCRM_CORPORA", ROOT.parent / "shared" / "corpora"))
    if not (path / "README.md").is_file():
        pytest.fail(f"the mail corpora are missing at {path}: set INBOXCRM_CORPORA or put shared/ beside the repo")
    return path


def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of `template` when given), dropped afterwards."""
    name = f"inboxcrm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except Exception as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc}); "
            "scripts/test starts it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """One database per test worker with every migration applied: tests get copies of it (CREATE DATABASE …
    TEMPLATE), which is several times faster than migrating each one."""
    for url in _postgres_database():
        engine = create_engine(url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")  # as the daemon makes a new database file
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path, _migrated_postgres: str
) -> Iterator[str]:
    """A database at the newest schema, once on SQLite and once on PostgreSQL (a fresh copy per test)."""
    if request.param == "sqlite":
        shutil.copyfile(_migrated_sqlite, tmp_path / "inboxcrm.db")
        yield f"sqlite:///{tmp_path / 'inboxcrm.db'}"
    else:
        yield from _postgres_database(_migrated_postgres)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema at all), once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inboxcrm.db'}"
    else:
        yield from _postgres_database()


def make_settings(
    tmp_path: Path,
    database_url: str,
    extra: str = "",
    environ: dict[str, str] | None = None,
    support_extra: str = "",
) -> Settings:
    """Settings for a test: a support and a sales Maildir mailbox on our example team."""
    for name in ("support", "sales"):
        for sub in ("cur", "new", "tmp"):
            (tmp_path / "maildir" / name / sub).mkdir(parents=True, exist_ok=True)
    config = f"""
[database]
url = "{database_url}"

[api]
tokens = [{{ name = "test", value = "secret-token" }}]

[team]
addresses = ["ana@northwind.example"]
domains = ["northwind.example"]

[[mailboxes]]
name = "support"
kind = "support"
addresses = ["support@northwind.example"]
source = "maildir"
path = "maildir/support"
{support_extra}

[[mailboxes]]
name = "sales"
kind = "sales"
addresses = ["sales@northwind.example"]
source = "maildir"
path = "maildir/sales"
{extra}
"""
    file = tmp_path / "inboxcrm.toml"
    file.write_text(config)
    return parse_settings(config, str(file), environ or {})


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[bootstrap.App]:
    """A built application on an upgraded, empty database (SQLite and PostgreSQL)."""
    built = bootstrap.build(make_settings(tmp_path, database_url))
    bootstrap.prepare_database(built) if built.engine.dialect.name == "sqlite" else _upgrade(built)
    yield built
    built.close()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty database (SQLite and PostgreSQL), for tests that write rows directly."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _upgrade(built: bootstrap.App) -> None:
    from inboxcrm.adapters.db import migrate

    migrate.upgrade(built.engine)


@pytest.fixture(scope="session")
def dovecot(dovecot_server: Dovecot) -> Dovecot:  # noqa: F811
    """A private Dovecot on a loopback port, one per xdist worker; it fails loudly if it cannot start."""
    return dovecot_server
