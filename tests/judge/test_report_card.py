"""The judge report card: its figures checked by hand, its HTML rendered in a real browser."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.types import Item, Query
from judgerank.judge.judge import PairTask
from judgerank.judge.jury import Juror, Jury
from judgerank.judge.report_card import jury_cards, kappa_matrix
from judgerank.runtime import Runtime

PROMPT = Query("p", "Describe a sunset.")


def _pairs(n=40, seed=0):
    """Pairs whose better response is, by the gold label, the longer one 3 times in 4."""
    rng = np.random.default_rng(seed)
    tasks, truth = [], {}
    for i in range(n):
        short, long_ = f"short reply {i:03d}", f"long reply {i:03d} " + " ".join(["word"] * int(rng.integers(5, 30)))
        better_is_long = i % 4 != 0
        a, b = (Item(f"a{i}", long_), Item(f"b{i}", short)) if i % 2 else (Item(f"a{i}", short), Item(f"b{i}", long_))
        gold = ("a" if a.text == long_ else "b") if better_is_long else ("a" if a.text == short else "b")
        truth[a.text], truth[b.text] = (3.0, 2.0) if gold == "a" else (2.0, 3.0)
        tasks.append(PairTask(str(i), PROMPT, a, b, gold))
    return tasks, truth


def test_card_figures_by_hand():
    tasks, truth = _pairs()
    by_length = {t: float(len(t)) / 10 for t in truth}  # a judge that only likes length
    runtime = Runtime(store=None, backends={"truth": SimulatedBackend(truth), "length": SimulatedBackend(by_length)})
    result = Jury([Juror("truth"), Juror("length")], runtime=runtime, ratings=False).compare(tasks)
    cards = {c.name: c for c in jury_cards(result)}
    assert cards["length"].longer_preferred == 1.0 and cards["truth"].gold_longer_preferred == 0.75
    assert cards["truth"].longer_preferred == 0.75 and cards["truth"].agreement.accuracy_2way == 1.0
    assert cards["length"].agreement.accuracy_2way == 0.75
    judged = result.judgments_of("truth")
    expected = np.mean([(j.preference.prob - (1.0 if j.task.gold == "a" else 0.0)) ** 2 for j in judged])
    assert cards["truth"].brier == pytest.approx(expected)
    assert sum(n for _, _, n in cards["truth"].reliability) == 40
    assert cards["truth"].calls_per_pair == 2.0 and cards["truth"].position_consistency == 1.0
    names, kappa = kappa_matrix({n: {j.task.id: j.probability for j in result.judgments_of(n)} for n in result.jurors})
    assert names == ["truth", "length"] and kappa[0, 0] == 1.0
    assert kappa[0, 1] == pytest.approx(0.5, abs=0.01)  # they agree on the 30 pairs where longer is better
    assert {"jury: mean P(a), both orders", "jury: spectral weighted"} <= set(cards)


def test_judge_eval_cli_writes_a_card_that_renders_in_chromium(tmp_path, chromium):
    pytest.importorskip("matplotlib")
    tasks, truth = _pairs()
    grades = tmp_path / "truth.json"
    grades.write_text(json.dumps(truth))
    lengthy = tmp_path / "length.json"
    lengthy.write_text(json.dumps({t: len(t) / 10 for t in truth}))
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps([{"input": t.query.text, "output_1": t.a.text, "output_2": t.b.text,
                                  "label": "A>B" if t.gold == "a" else "B>A"} for t in tasks]))
    report, cards = tmp_path / "card.html", tmp_path / "card.json"
    result = subprocess.run([sys.executable, "-m", "judgerank", "judge-eval", str(pairs), "--format", "table", "--judges",
                             f"simulated:{grades},simulated:{lengthy}", "--no-store", "--report", str(report),
                             "--out", str(cards)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "report card: 40 labelled pairs" in result.stdout and "Fleiss' kappa" in result.stderr
    payload = json.loads(cards.read_text())
    assert [c["pairs"] for c in payload["cards"]][:2] == [40, 40] and payload["judge_kappa"]["kappa"][0][0] == 1.0
    dom = subprocess.run([*chromium, "--dump-dom", report.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    for figure in ("accuracy", "reliability", "length-bias", "judge-agreement"):
        assert f'<figure id="{figure}"><svg' in dom, figure
    assert dom.count("<tr>") == 1 + 2 + 3  # header, two judges, three pooled verdicts
    bad = subprocess.run([sys.executable, "-m", "judgerank", "judge-eval", str(pairs), "--judges", "x@nope"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "template 'nope' does not give" in bad.stderr and "Traceback" not in bad.stderr
