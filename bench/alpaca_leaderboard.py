"""A model leaderboard from judged battles: AlpacaEval models ranked by a small local judge.

A seeded sample of AlpacaEval instructions; for each, the 16 models are paired at random (a
perfect matching, 8 battles) and every battle is judged in both orders; every output is also
rated on the 1-5 rubric. Battles go to the arena's Bradley-Terry fit (win probability above or
below 1/2, ties half); ratings give a second leaderboard by mean expected rating. Both are
compared with the AlpacaEval 2 leaderboard (length-controlled win rate) by Spearman and Kendall
correlation, beside the length-only baseline (mean output length).

    python bench/alpaca_leaderboard.py --model smollm2-135m --instructions 20
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import time
from pathlib import Path

import numpy as np
from common import DATA, require
from scipy.stats import kendalltau, spearmanr

from judgerank.accounting import Ledger
from judgerank.aggregate.battles import Battles
from judgerank.arena import arena
from judgerank.evaluate.consistency import probability_verdict
from judgerank.responses import PairTask, ResponseJudge, pair_diagnostics
from judgerank.types import Item, Query

ALPACA = DATA / "alpaca-eval"
OUT = Path(__file__).resolve().parent / "out"


def load() -> tuple[list[str], dict[str, dict[str, str]], list[str], dict[str, float]]:
    """Models, their output per instruction, the instructions every model answered, AE2 LC."""
    outputs = {}
    for path in sorted(require(ALPACA / "model_outputs").glob("*.json.gz")):
        rows = json.load(gzip.open(path))
        outputs[path.name.removesuffix(".json.gz")] = {r["instruction"]: r["output"] for r in rows}
    first = next(iter(outputs.values()))
    instructions = [i for i in first if all(i in o for o in outputs.values())]
    board = {}
    with open(require(ALPACA / "data_AlpacaEval_2_weighted_alpaca_eval_gpt4_turbo_leaderboard.csv")) as fh:
        for row in csv.DictReader(fh):
            board[row[""]] = float(row["length_controlled_winrate"])
    models = sorted(outputs)
    return models, outputs, instructions, {m: board[m] for m in models}


def correlations(scores: dict[str, float], reference: dict[str, float]) -> str:
    models = sorted(reference)
    x = [scores.get(m, np.nan) for m in models]
    y = [reference[m] for m in models]
    return f"Spearman {spearmanr(x, y).statistic:+.3f}, Kendall {kendalltau(x, y).statistic:+.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--instructions", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-words", type=int, default=200, help="words kept of each instruction and output")
    args = ap.parse_args()
    models, outputs, instructions, reference = load()
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(len(instructions), size=args.instructions, replace=False)
    tasks = []
    for i in sample:
        text = instructions[i]
        query = Query(f"i{i}", text)
        order = rng.permutation(len(models))
        for x, y in zip(order[0::2], order[1::2]):
            a, b = models[x], models[y]
            tasks.append(PairTask(f"i{i}:{a}:{b}", query, Item(a, outputs[a][text]), Item(b, outputs[b][text])))
    OUT.mkdir(exist_ok=True)
    judge = ResponseJudge(args.model, max_words=args.max_words, cache=OUT / "judge-cache.sqlite")
    ledger = Ledger()
    start = time.perf_counter()
    done = []
    for j in judge.judge_pairs(tasks, ledger, batch_size=8):
        done.append(j)
        if len(done) % 40 == 0:
            print(f"  {len(done)}/{len(tasks)} battles judged", flush=True)
    seconds = time.perf_counter() - start
    costs = ledger.close()

    outcome = {"a": 1.0, "b": 0.0, "tie": 0.5}
    rows = [(j.task.a.id, j.task.b.id, outcome[probability_verdict(j.preference)]) for j in done]
    board = arena(Battles.from_outcomes(rows), "bradley-terry", prior=1.0)
    bt = {r.player: r.rating for r in board.rows}
    ratings: dict[str, list[float]] = {m: [] for m in models}
    for j in done:
        ratings[j.task.a.id].append(float(j.rating_a @ j.levels))
        ratings[j.task.b.id].append(float(j.rating_b @ j.levels))
    mean_rating = {m: float(np.mean(v)) for m, v in ratings.items() if v}
    length = {m: float(np.mean([len(outputs[m][instructions[i]]) for i in sample])) for m in models}
    naive_rows = [(j.task.a.id, j.task.b.id, outcome[j.naive]) for j in done]
    naive_bt = {r.player: r.rating for r in arena(Battles.from_outcomes(naive_rows), "bradley-terry", prior=1.0).rows}

    print(f"judge {args.model}: {len(sample)} of {len(instructions)} instructions (seed {args.seed}), {len(done)} battles, "
          f"{costs.calls} LLM calls, {costs.prompt_tokens} prompt tokens, {seconds:.0f} s")
    print(f"{'model':30} {'AE2 LC':>7} {'BT':>8} {'rating':>7}")
    for m in sorted(models, key=lambda m: -reference[m]):
        print(f"{m:30} {reference[m]:7.2f} {bt.get(m, float('nan')):8.1f} {mean_rating.get(m, float('nan')):7.3f}")
    print(f"Bradley-Terry on both-order verdicts vs AlpacaEval 2 LC: {correlations(bt, reference)}")
    print(f"Bradley-Terry on naive one-order verdicts:               {correlations(naive_bt, reference)}")
    print(f"mean expected rubric rating:                             {correlations(mean_rating, reference)}")
    print(f"mean output length (no judge):                           {correlations(length, reference)}")
    d = pair_diagnostics(done)
    print(f"position consistency {d.position_consistency:.3f}; score-vs-pair conflicts "
          f"naive {d.naive_score_inconsistency:.3f}, probabilistic {d.probability_score_inconsistency:.3f}")


if __name__ == "__main__":
    main()
