"""Small rooms: no Python file of the project (sources, tests, benchmarks, scripts) is over 500 lines, so each
holds one idea and can be read at once. A file that grows past it is split by topic, not trimmed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 500


def test_no_python_file_is_over_500_lines() -> None:
    files = [path for folder in ("src", "tests", "bench", "scripts") for path in (ROOT / folder).rglob("*.py")]
    assert len(files) > 300  # the walk found the project
    long = {
        str(path.relative_to(ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}, f"over {LIMIT} lines: split them by topic"
