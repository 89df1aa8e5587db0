"""Kept results replay unchanged: bench/replay.py check runs 70 jobs (every rerank and judge
method, a jury, a report card, every arena rater and interval, style control, win rates) on a copy
of the judgment store kept with them, with a budget of 0 new calls, and compares every ranking,
verdict, leaderboard and win rate with what the code that made them printed. Jobs that need
../shared/data are left out without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPLAY = Path(__file__).resolve().parents[1] / "bench" / "replay.py"


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.embed
def test_kept_results_replay_from_their_store_with_no_call():
    done = subprocess.run([sys.executable, str(REPLAY), "check"], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " 0 failed" in done.stdout and "FAIL" not in done.stdout
