"""Fixtures shared by the core tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GENERATOR = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "gen_mailbox.py"


@pytest.fixture(scope="session")
def generated_mail(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The message files of a generated mailbox (../shared/bench/gen_mailbox.py: 300 messages, seed 7)."""
    if not GENERATOR.is_file():
        pytest.fail(f"the mailbox generator is missing at {GENERATOR}: put shared/ beside the repo")
    box = tmp_path_factory.mktemp("generated") / "box"
    subprocess.run(
        [sys.executable, str(GENERATOR), str(box), "--count", "300", "--seed", "7"], check=True, capture_output=True
    )
    return sorted((box / "cur").iterdir())
