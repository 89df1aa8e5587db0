"""Hostile inputs, 10,000 per reader and parser: how many crash (any exception other than a
JudgerankError naming the file), by exception type, with one example each.

    python bench/fuzz_readers.py                 # every reader and parser, 10,000 inputs each
    python bench/fuzz_readers.py --n 1000 --only battles-csv.gz,permutation

The inputs are tests/fuzzing.py's (the same generators tests/test_fuzz.py checks 150 of each).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table  # noqa: E402
from helpers.fuzzing import PARSERS, READERS, parse_once, read_once  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def fuzz(name: str, n: int) -> dict:
    crashes: Counter[str] = Counter()
    example: dict[str, str] = {}
    folder = Path(tempfile.mkdtemp())
    count = 0

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        nonlocal count
        count += 1
        if name in READERS:
            crash = read_once(name, folder, data.draw(READERS[name][2]))
        else:
            crash = parse_once(name, data.draw(PARSERS[name]))
        if crash is not None:
            kind = type(crash).__name__
            crashes[kind] += 1
            example.setdefault(kind, str(crash)[:80])

    start = time.perf_counter()
    run()
    return {
        "target": name, "inputs": count, "crashes": sum(crashes.values()),
        "by type": ", ".join(f"{k} {v}" for k, v in crashes.most_common()) or "-",
        "example": "; ".join(f"{k}: {v}" for k, v in example.items()) or "-",
        "s": f"{time.perf_counter() - start:.0f}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="inputs per reader or parser")
    ap.add_argument("--only", default=None, help="comma-separated targets (default: all)")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else [*READERS, *PARSERS]
    rows = []
    for name in names:
        rows.append(fuzz(name, args.n))
        print(rows[-1], file=sys.stderr, flush=True)
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
