"""Hostile mail (issue 17's parser audit): time and memory to read each input, or to quarantine it.

Each input is written to a file and read by a fresh process, which measures `read_raw` (hash, bound,
parse, classify, split, forwards: what the ingest runs per message) and its peak memory above the input
itself; the baseline is a bare stdlib compat32 parse of the same bytes in the same process (the cheapest
possible reading: it decodes nothing). The figures are "seconds, peak MB over the input", best of one run
(the inputs are large; run-to-run noise on this shared machine is ±30%).
Run: `.venv/bin/python bench/hostile.py [--only SUBSTRING]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

BASELINE_UP_TO = 60_000_000  # a bare parse of the 200 MB input would itself take ~1 GB


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def _measure(path: str, which: str) -> dict[str, object]:
    """In the child: read the input, then time one reading and its peak memory above the input."""
    from email.parser import BytesParser
    from email.policy import compat32

    from inboxcrm.core.reading import read_raw

    raw = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to what is resident now
    before = _status("VmRSS")
    started = time.perf_counter()
    if which == "read":
        reading = read_raw(raw)
        outcome = (
            f"quarantined: {reading.problem[:60]}"
            if reading.problem
            else f"read; {len(reading.message.defects) if reading.message else 0} defect(s) noted"
        )
    else:
        try:
            BytesParser(policy=compat32).parsebytes(raw)
            outcome = ""
        except RecursionError as exc:  # the stdlib parser recurses once per nesting level
            outcome = type(exc).__name__
    return {"seconds": time.perf_counter() - started, "peak_mb": _status("VmHWM") - before, "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(*args.child)))
        return
    from tests.support.hostile import HOSTILE

    print(f"{'input':38} {'MB':>5} {'read s':>7} {'peak MB':>8} {'stdlib s':>9} {'× stdlib':>9}  outcome")
    for name, make in HOSTILE.items():
        if args.only not in name:
            continue
        with tempfile.NamedTemporaryFile(suffix=".eml") as file:
            raw = make()
            size = len(raw)
            file.write(raw)
            file.flush()
            del raw
            runs: dict[str, dict[str, object]] = {}
            for which in ("read", "stdlib") if size <= BASELINE_UP_TO else ("read",):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", file.name, which], capture_output=True, text=True, check=True
                )
                runs[which] = json.loads(done.stdout)
        read, base = runs["read"], runs.get("stdlib")
        fine = base is not None and not base["outcome"]
        base_s = f"{base['seconds']:9.2f}" if fine else f"{base['outcome'] if base else 'n/a':>9}"
        ratio = f"{read['seconds'] / base['seconds']:9.1f}" if fine else f"{'':>9}"
        seconds = f"{read['seconds']:7.2f} {read['peak_mb']:8}"
        print(f"{name:38} {size / 1e6:5.1f} {seconds} {base_s} {ratio}  {read['outcome']}")


if __name__ == "__main__":
    main()
