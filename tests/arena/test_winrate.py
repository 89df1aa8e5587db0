"""Length-controlled win rates against alpaca_eval's own get_length_controlled_winrate."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from judgerank.arena.files import read_gamed, read_judged
from judgerank.arena.winrate import length_controlled_win_rates
from judgerank.core.errors import JudgerankError

BASELINE = "gpt4_1106_preview"


@pytest.fixture(scope="module")
def outputs(data):
    folder = data / "alpaca-eval" / "model_outputs"
    out = {p.name.removesuffix(".json.gz"): {r["instruction"]: r["output"] for r in json.load(gzip.open(p))}
           for p in sorted(folder.glob("*.json.gz"))}
    instructions = [i for i in out[BASELINE] if all(i in o for o in out.values())][:80]
    return out, instructions


def _annotations(outputs, quality_scale=1.0, length_slope=1.5, seed=0):
    """AlpacaEval annotations of the real outputs by a simulated judge that likes quality and length."""
    out, instructions = outputs
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(size=len(instructions))
    quality = {m: quality_scale * rng.normal() for m in out}
    rows = []
    for m in sorted(out):
        if m == BASELINE:
            continue
        for k, text in enumerate(instructions):
            gap = len(out[m][text]) - len(out[BASELINE][text])
            p = 1 / (1 + np.exp(-(quality[m] - difficulty[k] + length_slope * np.tanh(gap / 800))))
            rows.append(dict(instruction=text, output_1=out[BASELINE][text], output_2=out[m][text], generator_1=BASELINE,
                             generator_2=m, annotator="simulated", preference=1 + p, index=k))
    return rows, difficulty


def _gamed(difficulty, path, seed=1):
    """Gamed-baseline rows laid out as AlpacaEval's df_gamed.csv (row i of the first block is index i)."""
    rng = np.random.default_rng(seed)
    rows = []
    for sign in (1.0, -1.0):  # verbose, then concise
        for k, d in enumerate(difficulty):
            gap = sign * abs(rng.normal(1.0, 0.3))
            rows.append(dict(model="verbose" if sign > 0 else "concise", index=k, preference=1 / (1 + np.exp(1.2 * np.tanh(gap))),
                             std_delta_len=gap, instruction_difficulty=d, not_gamed_baseline=False))
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("glm", ["length_controlled_v1", "length_controlled_noreg"])
def test_equals_alpaca_eval_length_controlled_winrate(outputs, tmp_path, monkeypatch, glm):
    """The same annotations and the same difficulty and gamed tables (AlpacaEval downloads them:
    here its download returns our file): every model's LC win rate within 1e-3 percentage points."""
    pytest.importorskip("sklearn")
    glm_winrate = pytest.importorskip("alpaca_eval.metrics.glm_winrate")
    rows, difficulty = _annotations(outputs)
    gamed_path = _gamed(difficulty, tmp_path / "df_gamed.csv")
    monkeypatch.setattr(glm_winrate, "hf_hub_download", lambda repo_id, filename, **kw: str(gamed_path))
    (tmp_path / "annotations.json").write_text(json.dumps(rows))
    gamed, table = read_gamed(gamed_path)
    judged = read_judged(tmp_path / "annotations.json", BASELINE).rows
    ours = {w.model: w for w in length_controlled_win_rates(
        judged, BASELINE, table, gamed if glm == "length_controlled_v1" else ())}
    assert len(ours) == 15
    for model, w in ours.items():
        ref = glm_winrate.get_length_controlled_winrate(
            [r for r in rows if r["generator_2"] == model], glm_name=glm, save_weights_dir=None)
        assert abs(w.lc_win_rate - ref["length_controlled_winrate"]) < 1e-3, model
        assert abs(w.win_rate - ref["win_rate"]) < 1e-9 and abs(w.lc_standard_error - ref["lc_standard_error"]) < 1e-3


def test_a_judge_that_only_likes_length_gets_even_lc_win_rates(outputs):
    """Equal quality, a judge swayed by length alone (and every model shorter than the baseline):
    each LC win rate is nearer 50 than the raw one. Not at 50: the GLM sees length only through
    each model's variation around its mean gap, and a model always far shorter keeps part of its
    length penalty in its intercept (AlpacaEval's GLM does the same)."""
    pytest.importorskip("sklearn")
    rows, _ = _annotations(outputs, quality_scale=0.0, length_slope=2.0)
    judged = [r for r in _as_judged(rows)]
    rates = length_controlled_win_rates(judged, BASELINE)  # difficulty estimated from the judgments
    raw = [w.win_rate for w in rates]
    lc = [w.lc_win_rate for w in rates]
    assert max(raw) - min(raw) > 30
    assert all(abs(x - 50) <= abs(r - 50) + 1.0 for x, r in zip(lc, raw)), (lc, raw)
    assert np.mean([abs(x - 50) for x in lc]) < 0.75 * np.mean([abs(r - 50) for r in raw])
    assert all(w.length_coefficient < 0 for w in rates)  # longer than the baseline's: preferred


def _as_judged(rows):
    from judgerank.arena.winrate import Judged

    return [Judged(r["generator_2"], str(r["index"]), r["preference"] - 1, len(r["output_2"]), len(r["output_1"]))
            for r in rows]


@pytest.mark.slow
def test_cli_reads_battles_with_texts_and_names_bad_input(tmp_path):
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(3)
    battles = []
    for i in range(40):
        for model, words in (("terse", 20), ("wordy", 120)):
            a_is_base = bool(rng.integers(2))
            mine, base = "x " * (words + int(rng.integers(0, 40))), "y " * (60 + int(rng.integers(0, 40)))
            p_mine = 1 / (1 + np.exp(-(len(mine) - len(base)) / 80))
            winner = "model_a" if (rng.random() < p_mine) != a_is_base else "model_b"
            a, b = ("base", model) if a_is_base else (model, "base")
            ta, tb = (base, mine) if a_is_base else (mine, base)
            battles.append({"prompt_id": f"q{i}", "model_a": a, "model_b": b, "winner": winner,
                            "response_a": ta, "response_b": tb})
    battles.append({"prompt_id": "q0", "model_a": "terse", "model_b": "wordy", "winner": "tie",
                    "response_a": "", "response_b": ""})
    path = tmp_path / "battles.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in battles))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "judgerank", "winrate", *map(str, args)],
                              capture_output=True, text=True, timeout=300)

    result = cli(path, "--baseline", "base", "--out", tmp_path / "rates.json")
    assert result.returncode == 0, result.stderr
    assert "1 records without base on one side were left out" in result.stderr
    rates = {r["model"]: r for r in json.loads((tmp_path / "rates.json").read_text())}
    assert rates["wordy"]["win_rate"] > 60 > rates["terse"]["win_rate"] + 20
    assert abs(rates["wordy"]["lc_win_rate"] - rates["terse"]["lc_win_rate"]) < abs(
        rates["wordy"]["win_rate"] - rates["terse"]["win_rate"])
    result = cli(path, "--baseline", "gpt4")
    assert result.returncode == 2 and result.stderr.strip() == (
        f"judgerank: error: {path}: baseline 'gpt4' is on no side of any record; the file has: base, terse, wordy")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"generator_1": "base", "generator_2": "m", "output_1": "a", "output_2": "b",
                                "instruction": "i", "preference": 3}]))
    result = cli(bad, "--baseline", "base")
    assert result.returncode == 2 and "bad.json:1: preference 3.0 is outside 1 (baseline) to 2 (model)" in result.stderr


def test_too_few_instructions_is_an_error():
    from judgerank.arena.winrate import Judged

    rows = [Judged("m", str(i), 0.7, 100 + i, 50) for i in range(3)]
    with pytest.raises(JudgerankError, match="at least 5 judged instructions"):
        length_controlled_win_rates(rows, "base")


def test_a_gamed_row_shorter_than_its_header_is_one_error(tmp_path):
    path = tmp_path / "df_gamed.csv"
    path.write_text("index,preference,std_delta_len,instruction_difficulty\nq1,0.5,0.1,1.0\nq2,0.5\n")
    with pytest.raises(JudgerankError, match=r"df_gamed.csv:3: 2 cells for the header's 4 columns"):
        read_gamed(path)


@pytest.mark.parametrize("field", ["preference", "p_a"])
def test_an_integer_of_hundreds_of_digits_is_one_error(tmp_path, field):
    record = ({"instruction": "q", "generator_1": BASELINE, "generator_2": "m", "output_1": "x", "output_2": "y"}
              if field == "preference" else
              {"prompt_id": "q", "model_a": "m", "model_b": BASELINE, "response_a": "x", "response_b": "y"})
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps([{**record, field: 10**400}]))
    with pytest.raises(JudgerankError, match=rf"annotations.json:1: {field} .* is not a number"):
        read_judged(path, BASELINE)
