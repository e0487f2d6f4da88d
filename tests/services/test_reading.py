"""Parsing in worker processes gives exactly what parsing in the daemon gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inboxcrm.core.reading import read_many
from inboxcrm.services.reading import Reader
from tests.support.mail import mail


def test_pool_and_inline_readings_are_identical() -> None:
    raws = [mail(message_id=f"p{i}@x.example", subject=f"Ticket {i}") for i in range(9)] + [b"\x00junk"]
    reader = Reader(workers=2, min_batch=1)
    try:
        pooled = reader.submit(raws)()
        assert reader._pool is not None  # the pool really ran
    finally:
        reader.close()
    assert pooled == read_many(raws)
    assert [r.problem is not None for r in pooled] == [False] * 9 + [True]


def test_small_batches_stay_in_process() -> None:
    reader = Reader(workers=2, min_batch=64)
    assert [r.message.subject for r in reader.submit([mail(subject="one")])() if r.message] == ["one"]
    assert reader._pool is None


def loaded(module: str) -> bool:
    """Run in a parsing process: is `module` imported there?"""
    import sys

    return module in sys.modules


def test_parsing_processes_of_a_console_script_do_not_load_the_command_line(tmp_path: Path) -> None:
    # `inboxcrm run` is a console script whose __main__ imports the whole CLI and web stack; the parsing
    # processes must not run it again (it cost ~110 MB each), and still parse
    script = tmp_path / "inboxcrm-like"
    script.write_text(
        "import inboxcrm.cli  # what the generated console script does\n"
        "from inboxcrm.services.reading import Reader\n"
        "from tests.services.test_reading import loaded\n"
        "from tests.support.mail import mail\n"
        "if __name__ == '__main__':\n"
        "    reader = Reader(workers=1, min_batch=1)\n"
        "    print(reader.submit([mail(subject='parsed')])()[0].message.subject)\n"
        "    print(reader._pool.submit(loaded, 'inboxcrm.cli').result())\n"
        "    reader.close()\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["parsed", "False"]
