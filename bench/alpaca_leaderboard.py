"""The AlpacaEval leaderboard from judged battles against the AlpacaEval 2 baseline, by local judges.

A seeded sample of AlpacaEval instructions; on each, every one of the 15 other models' outputs is
judged against gpt4_1106_preview's (the AE2 baseline), in both orders, by each judge (and pooled
when there are several: the jury's mean P, and its spectral weights). Four judgerank leaderboards come from the verdicts,
each compared with the AlpacaEval 2 length-controlled leaderboard by Spearman and Kendall:
- raw win rate against the baseline (mean P(model preferred));
- length-controlled win rate (AlpacaEval 2's GLM, judgerank.arena.winrate; instruction
  difficulty estimated from these judgments, no gamed-baseline rows: AlpacaEval's are not here);
- Bradley-Terry on the battles (verdict by P above or below 1/2), and the same with LMArena's
  style control (length, headers, lists, bold of the two outputs as covariates);
beside output length alone (mean characters over the same instructions), which needs no judge.

    python bench/alpaca_leaderboard.py --judges qwen2.5-coder-0.5b --instructions 40
    python bench/alpaca_leaderboard.py --judges smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b

Judgments go to bench/out/judge-cache.sqlite: a re-run costs nothing for what was judged.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import time
from pathlib import Path

import numpy as np
from common import DATA, print_table, require
from scipy.stats import kendalltau, spearmanr

from judgerank.aggregate.battles import Battles
from judgerank.aggregate.contextual import BattleRows
from judgerank.arena import BradleyTerry, leaderboard
from judgerank.arena.style import STYLE_FEATURES, standardise, style_differences
from judgerank.arena.winrate import Judged, length_controlled_win_rates
from judgerank.core.types import Item, Query
from judgerank.judge.judge import PairTask
from judgerank.judge.jury import Jury, parse_jurors
from judgerank.runtime import Runtime

ALPACA = DATA / "alpaca-eval"
BASELINE = "gpt4_1106_preview"
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
    models = sorted(m for m in outputs if m != BASELINE)
    return models, outputs, instructions, {m: board[m] for m in models}


def correlations(scores: dict[str, float], reference: dict[str, float]) -> tuple[float, float]:
    models = sorted(reference)
    x = [scores[m] for m in models]
    y = [reference[m] for m in models]
    return float(spearmanr(x, y).statistic), float(kendalltau(x, y).statistic)


def leaderboards(p_model: dict[str, float], tasks: list[PairTask]) -> dict[str, dict[str, float]]:
    """Each judgerank leaderboard from P(model preferred) per task id."""
    done = [t for t in tasks if t.id in p_model]
    judged = [Judged(t.b.id, t.query.id, p_model[t.id], len(t.b.text), len(t.a.text)) for t in done]
    raw = {}
    for model in {j.model for j in judged}:
        raw[model] = float(np.mean([j.preference for j in judged if j.model == model]))
    lc = {w.model: w.lc_win_rate for w in length_controlled_win_rates(judged, BASELINE)}
    rows = [(t.a.id, t.b.id, 0.0 if p_model[t.id] > 0.5 else 1.0 if p_model[t.id] < 0.5 else 0.5) for t in done]
    battles = Battles.from_outcomes(rows)
    bt = {r.player: r.rating for r in leaderboard(battles).rows}
    x = standardise(style_differences([t.a.text for t in done], [t.b.text for t in done]), STYLE_FEATURES)
    index = {p: i for i, p in enumerate(battles.players)}
    covariates = BattleRows(battles.players, np.array([index[r[0]] for r in rows]), np.array([index[r[1]] for r in rows]),
                            np.array([r[2] for r in rows]), x, np.ones(len(rows)), np.ones(len(rows)),
                            tuple(f"style_{n}" for n in STYLE_FEATURES))
    styled = leaderboard(battles, BradleyTerry(covariates=covariates))
    style_bt = {r.player: r.rating for r in styled.rows}
    coefficients = {c.name: round(c.value, 3) for c in styled.coefficients}
    return {"raw win rate": raw, "LC win rate": lc, "Bradley-Terry": bt, "style-controlled BT": style_bt,
            "_coefficients": coefficients}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judges", default="qwen2.5-coder-0.5b", help="MODEL[@TEMPLATE],...; several are also pooled")
    ap.add_argument("--instructions", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-words", type=int, default=300, help="words kept of each instruction and output")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads per model")
    args = ap.parse_args()
    models, outputs, instructions, reference = load()
    rng = np.random.default_rng(args.seed)
    sample = sorted(rng.choice(len(instructions), size=args.instructions, replace=False).tolist())
    tasks = []
    for i in sample:
        text = instructions[i]
        query = Query(f"i{i}", text)
        for m in models:
            tasks.append(PairTask(f"i{i}:{m}", query, Item(BASELINE, outputs[BASELINE][text]), Item(m, outputs[m][text])))
    OUT.mkdir(exist_ok=True)
    jurors = parse_jurors(args.judges, minimum=1)
    runtime = Runtime(store=OUT / "judge-cache.sqlite", threads=args.threads)
    jury = Jury(jurors, runtime=runtime, ratings=False, max_words=args.max_words)
    start = time.perf_counter()
    last = [0.0]

    def progress(name: str, n: int) -> None:
        if time.perf_counter() - last[0] > 60 or n == len(tasks):
            last[0] = time.perf_counter()
            print(f"  {name}: {n}/{len(tasks)} battles judged ({last[0] - start:.0f} s)", flush=True)

    result = jury.compare(tasks, progress=progress)
    seconds = time.perf_counter() - start
    length = {m: float(np.mean([len(outputs[m][instructions[i]]) for i in sample])) for m in models}
    judges = {name: {j.task.id: 1.0 - j.preference.prob for j in result.judgments_of(name)} for name in result.jurors}
    if len(result.jurors) > 1:
        judges["jury (mean P)"] = {p.task.id: 1.0 - p.p_a for p in result.pairs}
        judges["jury (spectral weights)"] = {p.task.id: 1.0 - (p.p_a if p.weighted_p_a is None else p.weighted_p_a)
                                             for p in result.pairs}
    rows, report = [], {"instructions": len(sample), "seed": args.seed, "battles": len(tasks), "seconds": seconds,
                        "costs": {n: vars(c) for n, c in result.costs.items()}, "failures": result.failures}
    rho, tau = correlations(length, reference)
    rows.append({"judge": "(none)", "leaderboard": "output length alone", "Spearman": f"{rho:+.3f}", "Kendall": f"{tau:+.3f}"})
    for name, p_model in judges.items():
        boards = leaderboards(p_model, tasks)
        report[name] = {"style_coefficients": boards.pop("_coefficients")}
        for board_name, scores in boards.items():
            rho, tau = correlations(scores, reference)
            rows.append({"judge": name, "leaderboard": board_name, "Spearman": f"{rho:+.3f}", "Kendall": f"{tau:+.3f}"})
            report[name][board_name] = scores
    print(f"{len(sample)} instructions (seed {args.seed}), {len(tasks)} battles against {BASELINE}, both orders; "
          f"{seconds:.0f} s")
    for name, costs in result.costs.items():
        print(f"  {name}: {costs.calls} LLM calls, {costs.prompt_tokens} prompt tokens, {costs.cache_hits} cache hits")
    for name, why in result.failures.items():
        print(f"  {name} {why}")
    print_table(rows, list(rows[0]))
    out = OUT / f"alpaca_{'+'.join(j.name for j in jurors)}_{len(sample)}.json".replace("/", "_")
    out.write_text(json.dumps(report, indent=1, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
