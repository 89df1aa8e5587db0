"""Juries of judges: pooling, spectral weights, Fleiss' kappa, and jurors that fail part-way."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers.faultproxy import FaultProxy
from helpers.standin_openai import StandinOpenAI

from judgerank.aggregate.spectral import rank_one, spectral_pool
from judgerank.backends.openai_compat import OpenAICompatBackend
from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query
from judgerank.judge.agreement import fleiss_kappa
from judgerank.judge.judge import PairTask
from judgerank.judge.jury import Juror, Jury, parse_jurors, pooled_agreement
from judgerank.runtime import Runtime

# Wikipedia's worked example of Fleiss' kappa: 10 subjects, 14 raters, 5 categories; kappa 0.210
FLEISS_EXAMPLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                  [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_matches_the_worked_example_and_statsmodels():
    assert fleiss_kappa(np.array(FLEISS_EXAMPLE)) == pytest.approx(0.2099, abs=5e-4)
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(0)
    table = rng.multinomial(5, [0.5, 0.3, 0.2], size=40)
    assert fleiss_kappa(table) == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=1e-12)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa(np.array([[1, 1], [2, 1]]))


def test_rank_one_recovers_the_loadings_behind_exact_agreements():
    loadings = np.array([0.5, -0.4, 0.2])  # worked by hand: M_ij = r_i r_j off the diagonal
    moments = np.outer(loadings, loadings)
    np.fill_diagonal(moments, 1.0)  # the diagonal holds noise too and is never read
    assert rank_one(moments) == pytest.approx(loadings, abs=1e-9)
    mostly_negative = np.array([-0.5, -0.4, 0.2])  # agreements fix loadings up to one sign: the sum is kept >= 0
    assert rank_one(np.outer(mostly_negative, mostly_negative)) == pytest.approx(-mostly_negative, abs=1e-9)


def test_spectral_pool_ignores_a_spammer_and_reads_a_contrarian_backwards():
    rng = np.random.default_rng(1)
    n = 4000
    truth = rng.choice([-1.0, 1.0], n)
    strength = np.array([0.8, 0.8, 0.0, -0.6])  # two honest judges, a spammer, a contrarian
    scores = truth[:, None] * strength + rng.normal(0, 1, (n, 4))
    scores[:500, 1] = np.nan  # a judge that failed on some items
    fit = spectral_pool(scores)
    # a judge scoring s*t + noise(1) has correlation s / sqrt(s^2 + 1) with the truth
    assert fit.loadings == pytest.approx(strength / np.sqrt(strength**2 + 1), abs=0.05)
    pooled = np.sign(fit.pooled) == truth
    best_single = max((np.sign(np.nan_to_num(scores[:, j])) == truth).mean() for j in range(4))
    majority = np.sign(np.nansum(np.sign(scores), axis=1)) == truth
    assert pooled.mean() > best_single + 0.05 and pooled.mean() > majority.mean() + 0.1
    assert 0.4 < fit.p_a[truth > 0].mean() < 1 and 0 < fit.p_a[truth < 0].mean() < 0.6


def test_spectral_pool_of_one_or_two_judges():
    one = spectral_pool(np.array([[2.0], [-1.0]]))
    assert 1 / (1 + np.exp(-np.array([2.0, -1.0]))) == pytest.approx(one.p_a)  # one judge: its own P(a)
    two = spectral_pool(np.array([[1.0, 0.1], [-1.0, -0.3], [0.5, 0.2]]))
    assert two.weights[0] == pytest.approx(two.weights[1]) and two.weights[0] > 0  # no third to tell them apart


PROMPT = Query("p", "Which city is the capital of France?")


def _tasks(n: int = 30) -> tuple[list[PairTask], dict[str, float]]:
    rng = np.random.default_rng(2)
    grades, tasks = {}, []
    for i in range(n):
        a, b = Item(f"a{i}", f"answer one number {i:03d}"), Item(f"b{i}", f"answer two number {i:03d}")
        ga, gb = rng.uniform(1, 5, 2)
        grades[a.text], grades[b.text] = ga, gb
        tasks.append(PairTask(str(i), PROMPT, a, b, "a" if ga > gb else "b"))
    return tasks, grades


def test_jury_pools_verdicts_and_keeps_each_jurors():
    tasks, grades = _tasks()
    runtime = Runtime(store=None, backends={
        "right": SimulatedBackend(grades),
        "noisy": SimulatedBackend(grades, noise=2.5, seed=3),
        "backwards": SimulatedBackend({t: -g for t, g in grades.items()}),
    })
    jury = Jury([Juror("right"), Juror("noisy"), Juror("backwards")], runtime=runtime, ratings=False)
    result = jury.compare(tasks)
    assert len(result.pairs) == 30 and not result.failures
    assert all(set(p.judgments) == {"right", "noisy", "backwards"} for p in result.pairs)
    first = result.pairs[0]
    assert first.p_a == pytest.approx(np.mean([j.preference.prob for j in first.judgments.values()]))
    table = pooled_agreement(result)
    assert table["weighted"].accuracy_2way >= 0.9  # the spectral weights read the backwards juror backwards
    assert result.juror_weight["right"] > result.juror_weight["noisy"]
    assert result.fleiss_kappa is not None and result.fleiss_kappa < 0  # a juror that disagrees by design
    row = first.as_dict()
    assert set(row["judges"]) == {"right", "noisy", "backwards"} and row["weighted"] in ("a", "b", "tie")


def test_a_juror_that_fails_midway_keeps_its_verdicts_and_the_others_go_on():
    tasks, grades = _tasks(12)
    with StandinOpenAI(delay=0.0) as server, FaultProxy(server.port, [None] * 8 + ["down"]) as proxy:
        remote = OpenAICompatBackend(proxy.url, "served", retries=1, backoff=0.01, concurrency=1)
        runtime = Runtime(store=None, backends={"local": SimulatedBackend(grades), "remote": remote})
        jury = Jury([Juror("local"), Juror("remote")], runtime=runtime, ratings=False)
        result = jury.compare(tasks, batch_size=4)  # 8 requests a batch: the second batch meets the outage
    assert "remote" in result.failures and "failed after" in result.failures["remote"]
    assert len(result.judgments_of("local")) == 12
    kept = len(result.judgments_of("remote"))
    assert 0 < kept < 12  # what it judged before the server went down is kept
    assert len(result.pairs) == 12 and all("local" in p.judgments for p in result.pairs)


def test_parse_jurors_and_its_errors():
    assert parse_jurors("smollm2-135m,smollm2-135m@judge-pair-5") == [
        Juror("smollm2-135m"), Juror("smollm2-135m", "judge-pair-5")]
    for spec, message in (("a,,b", "an empty juror"), ("a,a", "named twice"), ("a", "at least two jurors"),
                          ("a,b@rubric-1-5", "does not give pairwise verdicts"), ("a,b@nope", "template 'nope' does not give")):
        with pytest.raises(JudgerankError, match=message):
            parse_jurors(spec)


def test_judge_cli_with_a_jury(tmp_path):
    tasks, grades = _tasks(20)
    right, noisy = tmp_path / "right.json", tmp_path / "noisy.json"
    right.write_text(json.dumps(grades))
    rng = np.random.default_rng(5)
    noisy.write_text(json.dumps({t: g + rng.normal(0, 1.5) for t, g in grades.items()}))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"input": t.query.text, "output_1": t.a.text, "output_2": t.b.text,
                                         "label": 1 if t.gold == "a" else 2}) + "\n" for t in tasks))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "judgerank", "judge", str(pairs), "--format", "table",
                               *map(str, args)], capture_output=True, text=True, timeout=300)

    jurors = f"simulated:{right},simulated:{noisy}"
    result = cli("--judges", jurors, "--gold", "label", "--no-store", "--no-ratings", "--out", tmp_path / "o.jsonl",
                 "--battles", tmp_path / "b.jsonl")
    assert result.returncode == 0, result.stderr
    assert "jury of 2" in result.stdout and "spectral weighted" in result.stdout
    assert "Fleiss' kappa" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and all(len(r["judges"]) == 2 for r in rows)
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 20
    for args, message in ((("--judges", jurors, "--model", "x"), "leave out --model"),
                          (("--judges", f"simulated:{right}"), "at least two jurors")):
        bad = cli(*args)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


@pytest.mark.llm
def test_a_jury_of_local_models_loads_them_side_by_side_and_keeps_its_output(tmp_path):
    """Two llama.cpp models loading at once (the embedded model by name and by path) once left the
    process writing stdout and stderr to /dev/null: each load swapped fd 2 around itself."""
    from judgerank.backends.models import resolve_gguf

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p) + "\n" for p in [
        {"input": "What is 2 + 2?", "output_1": "4", "output_2": "5", "label": 1},
        {"input": "Name a primary colour.", "output_1": "Banana.", "output_2": "Red.", "label": 2},
    ]))
    gguf = resolve_gguf(None)
    jurors = ["smollm2-135m", str(gguf)]
    for n in range(3):  # more names for the same file: more loads at once
        (tmp_path / f"m{n}.gguf").symlink_to(gguf)
        jurors.append(str(tmp_path / f"m{n}.gguf"))
    result = subprocess.run([sys.executable, "-m", "judgerank", "judge-eval", str(pairs), "--format", "table",
                             "--judges", ",".join(jurors),
                             "--no-store"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "report card: 2 labelled pairs" in result.stdout
    assert "Fleiss' kappa" in result.stderr


def test_each_jurors_seconds_are_its_own():
    """Issue 37: every juror's seconds were the whole run's (its ledger closed when the last
    juror finished), so a juror the store served showed the s/pair of one that made every call."""
    import time

    from helpers import Stub

    tasks, _ = _tasks(6)

    def slow(request):
        time.sleep(0.05)
        return [0.0] + [-2.0] * (len(request.choices) - 1)

    runtime = Runtime(store=None, backends={"quick": Stub("quick"), "slow": Stub("slow", choices=slow)})
    result = Jury([Juror("quick"), Juror("slow")], runtime=runtime, ratings=False).compare(tasks)
    assert result.costs["slow"].calls == 12 and result.costs["slow"].seconds >= 0.6
    assert result.costs["quick"].seconds < result.costs["slow"].seconds / 5
