"""From model outputs to win rates: alpaca_eval's layout judged against a reference (issue 37)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judgerank.arena.files import read_judged
from judgerank.arena.winrate import length_controlled_win_rates
from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.errors import JudgerankError
from judgerank.judge import Judge
from judgerank.judge.outputs import judged_annotations, pair_with_reference, read_outputs
from judgerank.runtime import Runtime


def _outputs(path: Path, generator: str, texts: list[str]) -> Path:
    path.write_text(json.dumps([{"instruction": f"task {n}", "output": t, "generator": generator}
                                for n, t in enumerate(texts)]))
    return path


def test_outputs_judged_against_a_reference_give_alpacaeval_annotations_and_win_rates(tmp_path: Path) -> None:
    good = [f"a fine answer {n}" + " with detail" * (n % 3) for n in range(8)]
    poor = [f"a poor answer {n}" for n in range(8)]
    grades = {t: 4.0 for t in good} | {t: 1.0 for t in poor}
    reference = read_outputs(_outputs(tmp_path / "ref.json", "reference", poor))
    model = read_outputs(_outputs(tmp_path / "model.json", "better-model", good))
    tasks = pair_with_reference(model, reference, "model.json")
    assert tasks[0].a.id == "reference" and tasks[0].b.id == "better-model"  # a: the reference, as output_1
    judge = Judge("allpairs", runtime=Runtime(store=None, backends={None: SimulatedBackend(grades)}), ratings=False)
    rows, done = judged_annotations(judge, tasks)
    assert done.complete and done.costs.calls == 16  # both orders of 8 pairs
    assert all(r["generator_1"] == "reference" and 1.5 < r["preference"] <= 2.0 for r in rows)  # the model wins each
    written = tmp_path / "annotations.json"
    written.write_text(json.dumps(rows))
    (rate,) = length_controlled_win_rates(read_judged(written, "reference").rows, "reference", None, [])
    assert rate.model == "better-model" and rate.win_rate > 50


def test_outputs_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"instruction": "x", "output": 3, "generator": "m"}]))
    with pytest.raises(JudgerankError, match=r"bad\.json: entry 1: an output is"):
        read_outputs(bad)
    reference = read_outputs(_outputs(tmp_path / "ref.json", "ref", ["r"]))
    other = read_outputs(_outputs(tmp_path / "m.json", "m", ["one", "two"]))
    with pytest.raises(JudgerankError, match=r"m\.json: 1 of 2 instructions have no reference output, e\.g\. 'task 1'"):
        pair_with_reference(other, reference, "m.json")


def test_winrate_from_outputs_needs_a_reference(tmp_path: Path) -> None:
    model = _outputs(tmp_path / "m.json", "m", ["one"])
    done = subprocess.run([sys.executable, "-m", "judgerank", "winrate", "--outputs", str(model)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "--outputs needs --reference" in done.stderr


@pytest.mark.llm
def test_winrate_from_outputs_in_one_command(tmp_path: Path) -> None:
    reference = _outputs(tmp_path / "ref.json", "reference", ["Blue." + " Truly blue." * (n % 3) for n in range(5)])
    model = _outputs(tmp_path / "m.json", "tiny", ["Red." + " The colour of fire." * (n % 4) for n in range(5)])
    args = [sys.executable, "-m", "judgerank", "winrate", "--outputs", str(model), "--reference", str(reference),
            "--annotations", str(tmp_path / "a.json"), "--store", str(tmp_path / "s.sqlite"), "--format", "json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (rate,) = json.loads(done.stdout)
    assert rate["model"] == "tiny" and rate["n"] == 5 and 0 <= rate["lc_win_rate"] <= 100
    again = subprocess.run([sys.executable, "-m", "judgerank", "winrate", str(tmp_path / "a.json"), "--baseline",
                            "reference", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert json.loads(again.stdout) == [rate]  # the annotations it wrote give the same figures
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert "0 LLM calls" in rerun.stderr  # judged once: the store answers
