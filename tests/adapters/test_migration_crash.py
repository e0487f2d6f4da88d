"""A SIGKILL at any point of the automatic SQLite schema upgrade leaves a database the next start upgrades.

The upgrade runs in a forked child that kills itself right before its N-th SQL statement (or right
before COMMIT); the parent then starts as `inboxcrm run` does and checks the schema is exactly the
code's."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event

from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db.store import make_engine
from inboxcrm.adapters.db.tables import metadata


def statements(path: Path, base: str | None) -> int:
    """How many statements the upgrade from `base` to the newest schema runs."""
    engine = create_engine(f"sqlite:///{path}")
    if base:
        migrate.upgrade(engine, base)
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *_: count.__setitem__(0, count[0] + 1))
    migrate.upgrade(engine)
    engine.dispose()
    return count[0]


def upgrade_killed_at(url: str, n: int | None) -> bool:
    """Upgrade in a child process that SIGKILLs itself before statement `n` (None: before COMMIT)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            engine = make_engine(url)  # as the daemon builds it
            seen = [0]

            def before_statement(*_: Any) -> None:
                seen[0] += 1
                if seen[0] == n:
                    os.kill(os.getpid(), signal.SIGKILL)

            def before_commit(*_: Any) -> None:
                if n is None:
                    os.kill(os.getpid(), signal.SIGKILL)

            event.listen(engine, "before_cursor_execute", before_statement)
            event.listen(engine, "commit", before_commit)
            migrate.upgrade(engine)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def assert_next_start_succeeds(engine: Engine) -> None:
    migrate.upgrade(engine)  # what `inboxcrm run` does on SQLite (bootstrap.prepare_database)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": migrate.include_name})
        assert compare_metadata(context, metadata) == []


def kill_everywhere(tmp_path: Path, base: str | None, points: list[int | None]) -> None:
    template = tmp_path / "template.db"
    template.write_bytes(b"")  # an empty file is an empty SQLite database
    engine = create_engine(f"sqlite:///{template}")
    if base:
        migrate.upgrade(engine, base)
    engine.dispose()
    for point in points:
        db = tmp_path / f"killed-{point}.db"
        shutil.copyfile(template, db)
        url = f"sqlite:///{db}"
        assert upgrade_killed_at(url, point), f"the upgrade ended before kill point {point}"
        engine = make_engine(url)
        try:
            assert migrate.current_revision(engine) == base, f"killed at {point}: half an upgrade was committed"
            assert_next_start_succeeds(engine)
        finally:
            engine.dispose()


def test_a_kill_at_every_statement_of_an_upgrade_leaves_a_startable_database(tmp_path: Path) -> None:
    base = "0009"  # the upgrade a user of the previous release runs
    total = statements(tmp_path / "count.db", base)
    assert total > 3
    # every third statement (each kill point is a whole upgrade and a whole next start: every one of the ~150
    # statements takes minutes on CI), the first and the last, and a kill just before COMMIT
    kill_everywhere(tmp_path, base, [*range(1, total + 1, 3), total, None])


def test_a_kill_during_the_first_start_leaves_a_startable_database(tmp_path: Path) -> None:
    total = statements(tmp_path / "count.db", None)
    # spread over every migration (a kill at each of the ~300 statements takes minutes; this takes seconds)
    points: list[int | None] = [*range(1, total + 1, max(1, total // 8)), total, None]
    kill_everywhere(tmp_path, None, points)
