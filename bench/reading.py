"""What `read_raw` costs per message on the reference mailbox, next to the stdlib parses of the same bytes.

`read_raw` is what a parsing process runs on every message (hash, compat32 parse with our header decoding,
classify, quote split, forward detection, signature), measured without and with the search index's terms
(which the daemon's parsing processes make too). Its baselines, measured in the same run over the
same bytes held in memory: a bare `email.message_from_bytes(policy=compat32)` and the same with
`policy.default`. CPU time (`time.process_time`, so the load of a shared machine counts less), the best of
--repeat rounds; each round runs every contender once, in turn, so they see the same machine state.

The mailbox is `../shared/bench/gen_mailbox.py` (seed 42, --count messages, default 2,000), generated once
and cached under `var/reference/` as bench/reference.py does. `--profile` prints the functions of one
`read_many` run by their own time; `--steps` times three of read_raw's steps alone (the content hash,
`bound`, `find_forward` on messages parsed beforehand), against the same compat32 baseline; `--src DIR`
reads another checkout's `src` (e.g. main's, for a before/after in one machine state).
Run: `.venv/bin/python bench/reading.py [--count 2000] [--repeat 5] [--profile] [--steps] [--src ../main/src]`.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import email.policy
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load(count: int, seed: int) -> list[bytes]:
    """The reference mailbox's messages as bytes, in file-name order."""
    from bench.reference import reference_maildir

    return [path.read_bytes() for path in sorted((reference_maildir(count, seed) / "cur").iterdir())]


def stdlib_parse(raws: Sequence[bytes], policy: email.policy.Policy) -> list[object]:
    """The baseline: each message parsed by the standard library, nothing else."""
    return [email.message_from_bytes(raw, policy=policy) for raw in raws]


def rounds(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The least CPU seconds each contender took over `repeat` rounds (each round runs them all in turn)."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, run in contenders.items():
            start = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - start)
    return best


def profile(run: Callable[[], object], top: int) -> str:
    """The `top` functions of one `run` by their own time."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def steps(raws: Sequence[bytes], compat: float, repeat: int) -> str:
    """Three of read_raw's steps timed alone over `raws` (messages parsed beforehand for find_forward)."""
    from inboxcrm.core.fingerprint import content_hash
    from inboxcrm.core.forwards import find_forward
    from inboxcrm.core.limits import bound
    from inboxcrm.core.parsing import parse_message

    messages = [parse_message(raw) for raw in raws]
    best = rounds(
        {
            "content_hash": lambda: [content_hash(raw) for raw in raws],
            "bound": lambda: [bound(raw) for raw in raws],
            "find_forward": lambda: [find_forward(m, raw) for m, raw in zip(messages, raws, strict=True)],
        },
        repeat,
    )
    lines = [f"{'step':<30} {'CPU s':>7} {'ms/msg':>7} {'× compat32':>11}"]
    lines += [
        f"{name:<30} {cpu:>7.3f} {cpu / len(raws) * 1000:>7.3f} {cpu / compat:>11.3f}" for name, cpu in best.items()
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print the top functions by own time")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--steps", action="store_true", help="also time the hash, bound and find_forward alone")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the inboxcrm sources to measure")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(args.src.resolve()))
    import inboxcrm
    from inboxcrm.core.reading import read_many

    raws = load(args.count, args.seed)
    n = len(raws)
    print(f"{n} messages, {sum(map(len, raws)) / 1e6:.1f} MB, inboxcrm from {Path(inboxcrm.__file__).parent}")
    read_many(raws[:50])  # imports and first-use caches out of the way
    contenders: dict[str, Callable[[], object]] = {
        "stdlib parse, compat32": lambda: stdlib_parse(raws, email.policy.compat32),
        "stdlib parse, policy.default": lambda: stdlib_parse(raws, email.policy.default),
        "inboxcrm read_many": lambda: read_many(raws),
        # what the daemon's parsing processes run: the search index's terms too (DEFAULT_LANGUAGE)
        "  … with search terms": lambda: read_many(raws, language="english"),
    }
    best = rounds(contenders, args.repeat)
    compat, default = best["stdlib parse, compat32"], best["stdlib parse, policy.default"]
    print(f"{'contender':<30} {'CPU s':>7} {'ms/msg':>7} {'× compat32':>11} {'× default':>10}")
    for name, cpu in best.items():
        print(f"{name:<30} {cpu:>7.3f} {cpu / n * 1000:>7.3f} {cpu / compat:>11.2f} {cpu / default:>10.2f}")
    if args.steps:
        print(steps(raws, compat, args.repeat))
    if args.profile:
        print(profile(lambda: read_many(raws), args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
