"""Style control, sandwich intervals and LC win rates against the reference implementations.

    python bench/arena_references.py

Same data, same settings, one run each:
- arena-rank 0.1.1's ContextualBradleyTerry (run to convergence: ftol 0, gtol 1e-14) against
  judgerank's style-controlled Bradley-Terry on the 135k Chatbot Arena votes with two seeded
  covariates (one leaning with the outcome), with arena-rank's defaults (reg 1, reweighted) and
  judgerank's (reg 1e-3, unweighted): the largest difference in any rating, interval bound or
  coefficient, and the seconds each took (fit + sandwich intervals);
- arena-rank's BradleyTerry sandwich intervals against `judgerank arena --sandwich`;
- alpaca_eval 0.6.6's get_length_controlled_winrate against judgerank.arena.winrate on the real
  outputs of 15 models on 80 AlpacaEval instructions, judged by a simulated length-swayed judge,
  with a gamed-baseline table laid out as AlpacaEval's (its download is answered from a local file:
  AlpacaEval's own tables are not in ../shared/data).
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, print_table, require  # noqa: E402

from judgerank.arena import BradleyTerry as OurBradleyTerry  # noqa: E402
from judgerank.arena import Sandwich, leaderboard  # noqa: E402
from judgerank.arena.files import (  # noqa: E402
    read_battles,  # noqa: E402
    read_gamed,
    read_judged,
)
from judgerank.arena.winrate import length_controlled_win_rates  # noqa: E402

VOTES = DATA / "chatbot-arena" / "arena_human_preference_140k_battles.csv.gz"
BASELINE = "gpt4_1106_preview"


def featured_votes(folder: Path) -> tuple[Path, pd.DataFrame]:
    df = pd.read_csv(require(VOTES))
    df = df[df.model_a != df.model_b].reset_index(drop=True)
    rng = np.random.default_rng(7)
    won = df.winner.map({"model_a": 1.0, "model_b": 0.0}).fillna(0.5).to_numpy()
    df["lean"] = rng.normal(size=len(df)) + 0.6 * (won - 0.5)
    df["noise"] = 3.0 * rng.normal(size=len(df)) + 1.0
    path = folder / "votes.csv"
    df.to_csv(path, index=False)
    return path, df


def contextual(path: Path, df: pd.DataFrame, reg: float, reweight: bool) -> dict:
    from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
    from arena_rank.utils.data_utils import ContextualPairDataset

    t0 = time.perf_counter()
    dataset = ContextualPairDataset.from_pandas(df, ["lean", "noise"], reweighted=reweight)
    model = ContextualBradleyTerry(len(dataset.competitors), 2, reg=reg, ftol=0.0, gtol=1e-14, max_iter=100_000)
    ref = model.compute_ratings_and_cis(dataset)
    t_ref = time.perf_counter() - t0
    data = read_battles(path, features=("lean", "noise"))
    t0 = time.perf_counter()
    board = leaderboard(data.battles, OurBradleyTerry(covariates=data.rows_with_covariates, reg=reg, reweight=reweight),
                        Sandwich())
    t_ours = time.perf_counter() - t0
    expected = dict(zip(ref["competitors"], zip(*(np.asarray(ref[k]) for k in ("ratings", "rating_lower", "rating_upper")))))
    diff = max(max(abs(r.rating - expected[r.player][0]), abs(r.lower - expected[r.player][1]),
                   abs(r.upper - expected[r.player][2])) for r in board.rows)
    coef = float(np.max(np.abs(np.array([c.value for c in board.coefficients]) - np.asarray(ref["coeffs"]))))
    return {"comparison": f"style-controlled BT (reg {reg}, {'reweighted' if reweight else 'unweighted'})",
            "max |rating or bound diff|": f"{diff:.1e}", "max |coefficient diff|": f"{coef:.1e}",
            "judgerank s": f"{t_ours:.2f}", "reference s": f"{t_ref:.2f}"}


def sandwich(path: Path, df: pd.DataFrame) -> dict:
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    t0 = time.perf_counter()
    dataset = PairDataset.from_pandas(df)
    ref = BradleyTerry(len(dataset.competitors), ftol=0.0, gtol=1e-14, max_iter=100_000).compute_ratings_and_cis(dataset)
    t_ref = time.perf_counter() - t0
    battles = read_battles(path).battles
    t0 = time.perf_counter()
    board = leaderboard(battles, interval=Sandwich())
    t_ours = time.perf_counter() - t0
    expected = dict(zip(ref["competitors"], zip(*(np.asarray(ref[k]) for k in ("ratings", "rating_lower", "rating_upper")))))
    diff = max(max(abs(r.rating - expected[r.player][0]), abs(r.lower - expected[r.player][1]),
                   abs(r.upper - expected[r.player][2])) for r in board.rows)
    return {"comparison": "Bradley-Terry, sandwich intervals", "max |rating or bound diff|": f"{diff:.1e}",
            "max |coefficient diff|": "–", "judgerank s": f"{t_ours:.2f}", "reference s": f"{t_ref:.2f}"}


def length_control(folder: Path) -> dict:
    import alpaca_eval.metrics.glm_winrate as glm_winrate

    outputs = {p.name.removesuffix(".json.gz"): {r["instruction"]: r["output"] for r in json.load(gzip.open(p))}
               for p in sorted(require(DATA / "alpaca-eval" / "model_outputs").glob("*.json.gz"))}
    instructions = [i for i in outputs[BASELINE] if all(i in o for o in outputs.values())][:80]
    rng = np.random.default_rng(0)
    difficulty = rng.normal(size=len(instructions))
    quality = {m: rng.normal() for m in outputs}
    rows = []
    for m in sorted(outputs):
        if m == BASELINE:
            continue
        for k, text in enumerate(instructions):
            gap = len(outputs[m][text]) - len(outputs[BASELINE][text])
            p = 1 / (1 + np.exp(-(quality[m] - difficulty[k] + 1.5 * np.tanh(gap / 800))))
            rows.append(dict(instruction=text, output_1=outputs[BASELINE][text], output_2=outputs[m][text],
                             generator_1=BASELINE, generator_2=m, annotator="simulated", preference=1 + p, index=k))
    gamed = []
    for sign in (1.0, -1.0):
        for k, d in enumerate(difficulty):
            g = sign * abs(rng.normal(1.0, 0.3))
            gamed.append(dict(model="verbose" if sign > 0 else "concise", index=k, preference=1 / (1 + np.exp(1.2 * np.tanh(g))),
                              std_delta_len=g, instruction_difficulty=d, not_gamed_baseline=False))
    gamed_path, annotations = folder / "df_gamed.csv", folder / "annotations.json"
    pd.DataFrame(gamed).to_csv(gamed_path, index=False)
    annotations.write_text(json.dumps(rows))
    glm_winrate.hf_hub_download = lambda *args, **kw: str(gamed_path)  # the gamed rows, read locally
    t0 = time.perf_counter()
    ref = {m: glm_winrate.get_length_controlled_winrate([r for r in rows if r["generator_2"] == m], save_weights_dir=None)
           for m in sorted({r["generator_2"] for r in rows})}
    t_ref = time.perf_counter() - t0
    table, difficulty_of = read_gamed(gamed_path)
    judged = read_judged(annotations, BASELINE).rows
    t0 = time.perf_counter()
    ours = {w.model: w for w in length_controlled_win_rates(judged, BASELINE, difficulty_of, table)}
    t_ours = time.perf_counter() - t0
    diff = max(abs(ours[m].lc_win_rate - ref[m]["length_controlled_winrate"]) for m in ref)
    return {"comparison": f"LC win rate, {len(ref)} models x {len(instructions)} instructions (percentage points)",
            "max |rating or bound diff|": f"{diff:.1e}", "max |coefficient diff|": "–",
            "judgerank s": f"{t_ours:.2f}", "reference s": f"{t_ref:.2f}"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, df = featured_votes(folder)
        rows = [contextual(path, df, 1.0, True), contextual(path, df, 1e-3, False), sandwich(path, df), length_control(folder)]
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
