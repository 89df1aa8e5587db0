"""Five-level verdicts, tie regions and 2-way / 3-way agreement, against hand-checked answers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.types import Item, Preference, Query
from judgerank.judge.agreement import agreement, cross_fitted_verdicts, fit_margin, verdicts_with_margin
from judgerank.judge.judge import Judge, PairTask, gold_agreement

PROMPT = Query("p", "Explain recursion.")
QUALITY = {"great": 5.0, "good": 4.0, "fine": 3.8, "poor": 2.0}
ITEMS = {k: Item(k, f"answer {k}: {'lorem ' * n}{k}") for n, k in enumerate(QUALITY, 1)}  # no edge whitespace


def _backend(**kw) -> SimulatedBackend:
    return SimulatedBackend({i.text: QUALITY[k] for k, i in ITEMS.items()}, **kw)


def test_five_level_verdicts_in_both_orders():
    """The simulated judge rates the gap on a five-point scale; both orders map back to a's frame."""
    judge = Judge(store=None, backend=_backend(position_bias=0.4), template="judge-pair-5", ratings=False)
    tasks = [PairTask(f"{x}-{y}", PROMPT, ITEMS[x], ITEMS[y]) for x, y in
             (("great", "poor"), ("poor", "great"), ("great", "good"), ("good", "fine"), ("fine", "good"))]
    done = {j.task.id: j for j in judge.compare(tasks).judgments}
    assert [done[t.id].preference.five_level_verdict for t in tasks] == ["a>>b", "b>>a", "a>b", "tie", "tie"]
    pref = done["great-poor"].preference
    assert pref.levels_a_first is not None and abs(sum(pref.levels_a_first) - 1) < 1e-9
    # position bias pushes the first shown up: a's own frame undoes it only on average
    assert pref.levels_a_first[0] > pref.levels_a_second[0]
    assert done["great-good"].probability == "a" and done["great-good"].pointwise is None  # verdicts only


def test_five_level_preference_reads_p_a_from_the_levels():
    pref = Preference("a", "b", 0.0, 0.0, levels_a_first=(0.1, 0.2, 0.4, 0.2, 0.1),
                      levels_a_second=(0.5, 0.3, 0.1, 0.1, 0.0))
    assert pref.levels == pytest.approx((0.3, 0.25, 0.25, 0.15, 0.05))
    assert pref.five_level_verdict == "a>>b"


def test_fit_margin_and_cross_fitting_by_hand():
    scores = [0.30, 0.02, -0.01, -0.25, 0.04, -0.40]
    gold = ["a", "tie", "tie", "b", "tie", "b"]
    assert verdicts_with_margin(scores, 0.0) == ["a", "a", "b", "b", "a", "b"]
    m = fit_margin(scores, gold)
    assert m == pytest.approx((0.04 + 0.25) / 2)  # the first candidate that makes every tie a tie
    assert verdicts_with_margin(scores, m) == gold
    verdicts, margins = cross_fitted_verdicts(scores, gold, folds=3, seed=0)
    assert len(margins) == 3 and all(v in ("a", "b", "tie") for v in verdicts)
    a = agreement(["a", "a", "b", "b", "a", "b"], verdicts_with_margin(scores, m), gold)
    assert a.gold_ties == 3 and a.accuracy_2way == 1.0 and a.accuracy_3way == 1.0
    assert a.kappa_3way == pytest.approx(1.0)


def test_three_way_agreement_sees_ties_the_two_way_figure_hides():
    """Gold ties between equally good responses: without a tie region (b) scores 0 on all of
    them; the cross-fitted region gets most of them, decisive pairs stay right."""
    rng = np.random.default_rng(0)
    grades, tasks = {}, []
    for n in range(60):
        gap = [rng.normal(0, 0.15), 1.5, -1.5][n % 3]  # a gold tie: nearly equal, never exactly
        qa = 3.0 + rng.normal(0, 0.05)
        a, b = Item(f"a{n}", f"first answer {n:03d}"), Item(f"b{n}", f"second answer {n:03d}")
        grades[a.text], grades[b.text] = qa + gap / 2, qa - gap / 2
        tasks.append(PairTask(str(n), PROMPT, a, b, "tie" if n % 3 == 0 else "a" if gap > 0 else "b"))
    judge = Judge(store=None, backend=SimulatedBackend(grades), ratings=False)
    done = judge.compare(tasks).judgments
    table = gold_agreement(done)
    prob = table["probability"]
    assert prob.gold_ties == 20 and prob.accuracy_2way == 1.0
    assert prob.accuracy_3way > 0.9  # without a tie region it would be 40/60
    assert sum(j.probability == "tie" for j in done) == 0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "judgerank", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_judge_cli_five_levels_weigh_strong_verdicts_in_the_battles(tmp_path):
    grades = tmp_path / "grades.json"
    grades.write_text(json.dumps({i.text: QUALITY[k] for k, i in ITEMS.items()}))
    prompt = {"prompt_id": "p", "prompt": PROMPT.text, "responses": [{"id": k, "text": i.text} for k, i in ITEMS.items()]}
    (tmp_path / "r.jsonl").write_text(json.dumps(prompt) + "\n")
    result = _cli("judge", tmp_path / "r.jsonl", "--model", f"simulated:{grades}", "--five-levels", "--no-store",
                  "--battles", tmp_path / "b.jsonl", "--out", tmp_path / "o.jsonl", "--no-ratings")
    assert result.returncode == 0, result.stderr
    battles = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    strong = {(b["model_a"], b["model_b"]) for b in battles if b.get("weight") == 3}
    assert ("great", "poor") in strong or ("poor", "great") in strong
    pairs = json.loads((tmp_path / "o.jsonl").read_text())["pairs"]
    assert all(p["five_level"] in ("a>>b", "a>b", "tie", "b>a", "b>>a") and len(p["p_levels"]) == 5 for p in pairs)
    board = _cli("arena", tmp_path / "b.jsonl", "--method", "win-rate", "--out", tmp_path / "lb.json")
    assert board.returncode == 0, board.stderr
    rows = {r["player"]: r for r in json.loads((tmp_path / "lb.json").read_text())["leaderboard"]}
    assert rows["great"]["wins"] == 1 + 1 + 3 and rows["poor"]["losses"] == 3 * 3  # gaps 1, 1.2, 3 and 3, 2, 1.8
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"model_a": "x", "model_b": "y", "winner": "model_a", "weight": -1}) + "\n")
    result = _cli("arena", bad)
    assert result.returncode == 2 and "bad.jsonl:1: weight must be a positive number" in result.stderr
