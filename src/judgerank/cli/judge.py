"""`judgerank judge` and `judgerank judge-eval`: LLM judges ranking responses and deciding pairs, and
report cards of judges (and juries) on labelled pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from judgerank.cli.base import (
    ACTIVITY,
    MODEL_HELP,
    CacheOpt,
    CpusOpt,
    FlagTally,
    Interrupted,
    MaxWordsOpt,
    NoCacheOpt,
    OrderedOpt,
    Output,
    RayOpt,
    StoreOpt,
    ThreadsOpt,
    WorkersOpt,
    _budget,
    _check_writable,
    _cluster,
    _interrupted,
    _job_spec,
    _names,
    _on_ray,
    _print_costs,
    _query_of_json,
    _runtime,
    app,
    err,
    out,
)
from judgerank.errors import JudgerankError
from judgerank.types import Costs


@app.command()
def judge(
    input: Annotated[
        Path,
        typer.Argument(
            help="JSONL or JSON list: {prompt, responses:[{id,text}]} to rank, or pairs {input, output_1, output_2, label}."
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            help="pairwise: verdicts between responses; pointwise: a 1-5 rubric rating each. "
            "Pairs files get both, to compare; --mode picks the 'verdict' written."
        ),
    ] = "pairwise",
    method: Annotated[
        str, typer.Option(help=f"Pairwise ranking method, one of: {_names('judge', pairwise=True)} (see `judgerank methods`).")
    ] = "allpairs",
    model: Annotated[str | None, typer.Option(help=MODEL_HELP)] = None,
    gold: Annotated[
        str | None, typer.Option(help="Pairs: the field with the human label (1, 2 or tie); prints accuracy and kappa.")
    ] = None,
    top_k: Annotated[int, typer.Option(help="Responses the top-k sorts put in order.", min=1)] = 10,
    limit: Annotated[int | None, typer.Option(help="Judge only the first N prompts or pairs.", min=1)] = None,
    show: Annotated[int, typer.Option(help="Rows of each ranking to print.", min=1)] = 10,
    ratings: Annotated[
        bool,
        typer.Option(
            "--ratings/--no-ratings",
            help="Also rate each response on the 1-5 rubric: the score-vs-pair diagnostic and, for pairs files, "
            "verdict (c) (2 calls per pair).",
        ),
    ] = True,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per prompt (per run for pairs).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Budget: tokens per prompt (per run for pairs).")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write results as JSON lines, one per prompt or pair, as each finishes.")
    ] = None,
    battles: Annotated[
        Path | None,
        typer.Option(help="Write the judged pairs as battles JSONL (model_a, model_b, winner) for `judgerank arena`."),
    ] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (…/v1) to judge with; --model names its model.")
    ] = None,
    store: StoreOpt = None,
    threads: ThreadsOpt = None,
    ray: RayOpt = None,
    workers: WorkersOpt = None,
    cpus_per_worker: CpusOpt = 1.0,
    ordered: OrderedOpt = False,
    guard: Annotated[str, typer.Option(help="What a response whose text addresses the judge ('[[A]]', 'rate this "
                                       "response best') gets: demote (ranked last, loses its pairs to unflagged "
                                       "ones), flag (reported only), drop, off.")] = "demote",
    max_words: MaxWordsOpt = 400,
    five_levels: Annotated[
        bool,
        typer.Option("--five-levels", help="Verdicts on arena-hard's five levels (A>>B, A>B, tie, B>A, B>>A; "
                     "template judge-pair-5); in --battles a strong verdict counts 3 battles."),
    ] = False,
    judges: Annotated[
        str | None,
        typer.Option(help="Pairs files: a jury, MODEL[@TEMPLATE],... (templates: judge-pair, judge-pair-5); "
                     "verdicts pooled by mean P(a), majority and spectral weights; each juror's kept.",
                     rich_help_panel="Juries"),
    ] = None,
) -> None:
    """Rank responses with an LLM judge, or score it against gold labels, with diagnostics.

    Ranking prompts' responses with --out (and no --battles), an interrupted run resumes from
    NAME.partial. With --ray, the prompts are spread over Ray workers (pairs files run here)."""
    from judgerank.io.responses import read_judge_input
    from judgerank.responses import PairTask, ResponseJudge

    if mode not in ("pairwise", "pointwise"):
        raise JudgerankError(f"--mode must be pairwise or pointwise, not {mode!r}")
    pairwise = _names("judge", pairwise=True).split(", ")
    if mode == "pairwise" and method not in pairwise:
        raise JudgerankError(f"--method must be one of {', '.join(pairwise)}, not {method!r}")
    tasks = read_judge_input(input, gold)[:limit]
    pairs_file = isinstance(tasks[0], PairTask)
    if judges is not None:
        if not pairs_file:
            raise JudgerankError("--judges pools verdicts on a pairs file ({input, output_1, output_2}); "
                                 "rank a prompt's responses with one --model")
        if model is not None or five_levels or ray is not None or mode != "pairwise":
            raise JudgerankError("--judges names every juror (MODEL[@TEMPLATE]); leave out --model, --five-levels, "
                                 "--mode and --ray")
        _judge_jury(judges, tasks, _runtime(cache, no_cache, base_url, store, threads), ratings, max_words,
                    _budget(max_calls, max_tokens), guard, out_path, battles)
        return
    if ray is not None and pairs_file:
        raise JudgerankError("--ray spreads the ranking of prompts' responses; a pairs file is judged in one process "
                             "(leave out --ray)")
    runtime = _runtime(cache, no_cache, base_url, store, threads)
    judge_ = ResponseJudge(
        model,
        method="pointwise" if mode == "pointwise" else method,
        top_k=top_k,
        ratings=ratings,
        budget=_budget(max_calls, max_tokens),
        runtime=runtime,
        guard=guard,
        max_words=max_words,
        template="judge-pair-5" if five_levels else "judge-pair",
    )
    cluster = _cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None  # joined now: errors first
    resume = _query_of_json if not pairs_file and battles is None else None
    sink, battle_sink = Output(out_path, resume=resume, method=judge_.method.name), Output(battles)
    if sink.done:
        tasks = [t for t in tasks if t[0].id not in sink.done]  # type: ignore[index,assignment]  # prompts: (query, responses)
    if ray is not None:
        spec = _job_spec("judge", judge_.method.name, model, base_url, runtime, threads, cpus_per_worker,
                         _budget(max_calls, max_tokens), {"top_k": top_k, "ratings": ratings, "guard": guard,
                                                          "max_words": max_words, "template": judge_.template})

        def record(n: int, record: dict[str, Any]) -> None:
            sink.record(record)
            for battle in _battles_of(record):
                battle_sink.record(battle)
            if out_path is None:
                print(json.dumps(record), flush=True)

        _on_ray(tasks, spec, cluster, sink, out_path, ("prompt", "prompts"), record)
        battle_sink.finish()
        return
    done: list[Any] = []
    try:
        if isinstance(tasks[0], PairTask):
            _judge_pairs(judge_, tasks, mode, sink, battle_sink, done)
        else:
            _judge_rankings(judge_, tasks, sink, battle_sink, done, show)
    except KeyboardInterrupt:
        what = "pairs" if isinstance(tasks[0], PairTask) else "prompts"
        raise Interrupted(_interrupted(len(done), len(tasks), what, sink, runtime)) from None
    for handle in (sink, battle_sink):
        handle.finish()
        if handle.path:
            err.print(f"wrote {handle.path}")


def _judge_rankings(judge_: Any, tasks: Any, sink: Output, battle_sink: Output, results: list[Any], show: int) -> None:
    from judgerank.responses import merged_diagnostics

    total, incomplete = Costs(), 0
    tally = FlagTally(judge_.options.guard)
    with ACTIVITY.showing("judging", len(tasks)) as activity:
        for query, responses in tasks:
            result = judge_.rank(query, responses)
            results.append(result)
            tally.add(f"prompt {query.id}", result.ranking.flags)
            total.add(result.ranking.costs)
            incomplete += not result.ranking.complete
            record = result.as_dict()
            sink.record(record)
            for battle in _battles_of(record):
                battle_sink.record(battle)
            if sink.path is None or len(tasks) == 1:
                _show_judged(result, query, responses, show, judge_.method)
            activity.advance(f"judging (prompt {query.id}, {total.calls} calls)")
    _print_diagnostics(merged_diagnostics(results).as_dict())
    tally.report()
    _print_costs(total, len(results), incomplete, unit=("prompt", "prompts"))


def _battles_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Battle rows from a judged prompt's pairs."""
    return [{"prompt_id": record["prompt_id"], "model_a": p["a"], "model_b": p["b"], **_battle_result(p)}
            for p in record["pairs"]]


def _battle_result(pair: dict[str, Any]) -> dict[str, Any]:
    """The winner by the probability from both orders; a five-level judge's most likely verdict,
    with a strong one (a>>b, b>>a) weighing 3 battles, as arena-hard counts them."""
    level = pair.get("five_level")
    if level is not None:
        winner = "model_a" if level.startswith("a") else "model_b" if level.startswith("b") else "tie"
        return {"winner": winner, **({"weight": 3} if ">>" in level else {})}
    p_a = pair["p_a"]
    return {"winner": "model_a" if p_a > 0.5 else "model_b" if p_a < 0.5 else "tie"}


def _show_judged(result: Any, query: Any, responses: Any, rows: int, method: Any) -> None:
    """A table when stdout is a terminal; else the result as one JSON line."""
    if not out.is_terminal:
        print(json.dumps(result.as_dict()), flush=True)
        return
    texts = {i.id: i.text for i in responses}
    r = result
    table = Table(title=f"{query.text[:80]}  [{r.ranking.method}]", caption=f"score: {method.score}; rating: "
                  "expected 1-5 rubric rating", caption_justify="left")
    for col in ("rank", "id", "score", "rating", "text"):
        table.add_column(col, justify="left" if col in ("id", "text") else "right", no_wrap=True,
                         overflow="ellipsis", max_width=max(20, out.width - 50) if col == "text" else None)
    for n, (rid, score) in enumerate(zip(r.ranking.ids[:rows], r.ranking.scores[:rows]), 1):
        rating = f"{float(r.ratings[rid] @ r.levels):.2f}" if rid in r.ratings else "-"
        shown = f"{score:.3f}" if score is not None else ("not judged" if not r.ranking.complete else "-")
        table.add_row(str(n), rid, shown, rating, texts[rid])
    out.print(table)
    for note in r.notes:
        err.print(f"note: {note}", markup=False)


@app.command("judge-eval")
def judge_eval(
    pairs: Annotated[Path, typer.Argument(help="Labelled pairs: JSON or JSONL {input, output_1, output_2, label}.")],
    judges: Annotated[
        str, typer.Option(help="The judges to grade, MODEL[@TEMPLATE],... (one or more); more than one are also "
                          "pooled as a jury.")
    ],
    gold: Annotated[str, typer.Option(help="The field with the human label (1, 2, tie, A>B, ...).")] = "label",
    report: Annotated[Path | None, typer.Option(help="Write the report card as HTML with its plots.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the cards as JSON.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N pairs.", min=1)] = None,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per judge.")] = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (…/v1) serving the judges' models.")
    ] = None,
    store: StoreOpt = None,
    threads: ThreadsOpt = None,
    max_words: MaxWordsOpt = 400,
) -> None:
    """Grade judges on labelled pairs: accuracy and kappa, position consistency, length bias,
    calibration of P(A), agreement between judges, cost per judgment."""
    for path in (report, out_path):
        _check_writable(path)
    from judgerank.evaluate.report_card import jury_cards, kappa_matrix
    from judgerank.io.responses import read_judge_input
    from judgerank.jury import Jury, parse_jurors
    from judgerank.responses import PairTask

    jurors = parse_jurors(judges, minimum=1)
    tasks = read_judge_input(pairs, gold)[:limit]
    if not isinstance(tasks[0], PairTask):
        raise JudgerankError(f"{pairs}: judge-eval needs labelled pairs ({{input, output_1, output_2, {gold}}})")
    runtime = _runtime(cache, no_cache, base_url, store, threads)
    for juror in jurors:
        runtime.check(juror.model)
    jury = Jury(jurors, runtime=runtime, ratings=False, max_words=max_words, budget=_budget(max_calls, None))
    with ACTIVITY.showing("judging", len(tasks) * len(jurors)) as activity:
        try:
            result = jury.judge_pairs(tasks, lambda name, n: activity.advance(f"judging ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted("interrupted: every judgment that came back is in the judgment store; run the same "
                              "command again to finish at no cost for those") from None
    cards = jury_cards(result)
    if not cards:
        raise JudgerankError("no judge returned a verdict: see the failures above")
    ties = any(c.agreement and c.agreement.gold_ties for c in cards)
    humans = next((c.gold_longer_preferred for c in cards if c.gold_longer_preferred is not None), None)
    table = Table(title=f"report card: {len(result.pairs)} labelled pairs",
                  caption="acc, κ: against gold, verdict from both orders (2w: decisive gold pairs; 3w: ties a class); "
                  "pos: position consistency; longer: share of decisive verdicts for the longer response (humans: "
                  f"{'–' if humans is None else f'{humans:.2f}'}); cost: calls and seconds per pair (cache hits are "
                  "free); JSON and HTML (--out, --report) hold every figure", caption_justify="left")
    columns = ["judge", "acc 2w", "κ 2w", *(("acc 3w", "κ 3w") if ties else ()), "pos", "longer", "Brier", "cost"]
    for col in columns:
        if col == "judge":
            table.add_column(col, no_wrap=True, overflow="ellipsis", max_width=max(16, out.width - 14 * len(columns)))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))

    def f(x: float | None, spec: str = ".2f") -> str:
        return "–" if x is None else format(x, spec)

    for c in cards:
        a = c.agreement
        three = (f(a.accuracy_3way if a else None), f(a.kappa_3way if a else None)) if ties else ()
        cost = "–" if c.calls_per_pair is None else f"{c.calls_per_pair:.1f}, {f(c.seconds_per_pair)}s"
        table.add_row(c.name, f(a.accuracy_2way if a else None), f(a.kappa_2way if a else None), *three,
                      f(c.position_consistency), f(c.longer_preferred), f(c.brier, ".3f"), cost)
    out.print(table)
    verdicts = {name: {j.task.id: j.probability for j in result.judgments_of(name)} for name in result.jurors}
    kappas = kappa_matrix(verdicts)
    notes = [f"juror {name} {why}" for name, why in result.failures.items()]
    if result.fleiss_kappa is not None:
        pairs_of = [f"{x} / {y} {kappas[1][i, j]:.2f}" for i, x in enumerate(kappas[0]) for j, y in enumerate(kappas[0])
                    if j < i]
        notes.append(f"Fleiss' kappa between the judges' verdicts: {result.fleiss_kappa:.3f}; Cohen's kappa by "
                     f"pair: {'; '.join(pairs_of)}")
    for note in notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        payload = {"pairs": len(result.pairs), "cards": [c.as_dict() for c in cards], "fleiss_kappa": result.fleiss_kappa,
                   "judge_kappa": {"judges": kappas[0], "kappa": kappas[1].tolist()}, "failures": result.failures}
        try:
            out_path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        except OSError as exc:
            raise JudgerankError(f"{out_path}: cannot write ({exc.strerror})") from exc
        err.print(f"wrote {out_path}")
    if report:
        from judgerank.judge_report import write_judge_report

        write_judge_report(cards, kappas, report, source=str(pairs), notes=notes)
        err.print(f"wrote {report}")


def _judge_jury(spec: str, tasks: Any, runtime: Any, ratings: bool, max_words: int, budget: Any, guard: str,
                out_path: Path | None, battles: Path | None) -> None:
    """A jury over a pairs file: rows written once the pooled verdicts are in (every judgment is
    in the store as it comes back, so an interrupted run costs nothing to redo)."""
    from judgerank.jury import POOLED_RULES, Jury, parse_jurors, pooled_agreement
    from judgerank.responses import gold_agreement

    jurors = parse_jurors(spec)
    for juror in jurors:
        runtime.check(juror.model)
    jury = Jury(jurors, runtime=runtime, ratings=ratings, max_words=max_words, budget=budget, guard=guard)
    sink, battle_sink = Output(out_path), Output(battles)
    with ACTIVITY.showing("jury", len(tasks) * len(jurors)) as activity:
        try:
            result = jury.judge_pairs(tasks, lambda name, n: activity.advance(f"jury ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted("interrupted: every judgment that came back is in the judgment store; run the same "
                              "command again to finish at no cost for those") from None
    for pair in result.pairs:
        row = pair.as_dict()
        sink.record(row)
        if out_path is None and not out.is_terminal:
            print(json.dumps(row), flush=True)
        winner = {"a": "model_a", "b": "model_b", "tie": "tie"}[pair.weighted or pair.mean]
        battle_sink.record({"prompt_id": pair.task.id, "model_a": "output_1", "model_b": "output_2", "winner": winner})
    if result.pairs and all(p.task.gold is not None for p in result.pairs):
        rows = {}
        for name in result.jurors:
            mine = result.judgments_of(name)
            if mine:
                rows.update({f"{name}: {rule}": a for rule, a in gold_agreement(mine).items() if rule != "naive"})
        rows.update({POOLED_RULES[rule]: a for rule, a in pooled_agreement(result).items()})
        _print_agreement(rows, len(result.pairs), title=f"jury of {len(jurors)}: agreement with {len(result.pairs)} "
                         "gold labels")
    kappa = "–" if result.fleiss_kappa is None else f"{result.fleiss_kappa:.3f}"
    weights = ", ".join(f"{n} {w:.2f}" for n, w in result.juror_weight.items())
    err.print(f"inter-judge agreement (Fleiss' kappa over verdicts (b)): {kappa}; each juror's loading (its "
              "agreement with the truth as the spectral weighting estimates it without gold; negative: read "
              f"backwards): {weights}", soft_wrap=True, markup=False)
    for name, why in result.failures.items():
        err.print(f"juror {name} {why}; the pooled verdicts use the others there", soft_wrap=True, markup=False)
    for name, costs in result.costs.items():
        err.print(f"{name}: ", end="", markup=False)
        _print_costs(costs, len(result.judgments_of(name)), 0, unit=("pair", "pairs"))
    for handle in (sink, battle_sink):
        handle.finish()
        if handle.path:
            err.print(f"wrote {handle.path}")


def _judge_pairs(judge_: Any, tasks: Any, mode: str, sink: Output, battle_sink: Output, done: list[Any]) -> None:
    from judgerank.accounting import Ledger
    from judgerank.errors import BudgetExhausted
    from judgerank.responses import gold_agreement, pair_diagnostics

    ledger = Ledger(judge_.budget)
    stopped = False
    tally = FlagTally(judge_.options.guard)
    with ACTIVITY.showing("judging pairs", len(tasks)) as activity:
        try:
            for j in judge_.judge_pairs(tasks, ledger):
                done.append(j)
                tally.add(f"pair {j.task.id}", {k: f for k, f in (("output_1", j.flags_a), ("output_2", j.flags_b)) if f})
                row = j.as_dict()
                row["verdict"] = j.pointwise if mode == "pointwise" else j.probability
                sink.record(row)
                if sink.path is None and not out.is_terminal:
                    print(json.dumps(row), flush=True)
                result = (_battle_result(row) if "five_level" in row
                          else {"winner": {"a": "model_a", "b": "model_b", "tie": "tie"}[row["verdict"]]})
                battle_sink.record({"prompt_id": j.task.id, "model_a": "output_1", "model_b": "output_2", **result})
                activity.advance("judging pairs")
        except BudgetExhausted:
            stopped = True
    costs = ledger.close()
    if done and done[0].task.gold is not None:
        _print_agreement(gold_agreement(done), len(done))
    if done:
        _print_diagnostics(pair_diagnostics(done).as_dict())
    tally.report()
    _print_costs(costs, len(done), int(stopped), unit=("pair", "pairs"))


def _print_agreement(table_of: dict[str, Any], pairs: int, title: str | None = None) -> None:
    """Accuracy and kappa per verdict rule, 2-way and 3-way (see judgerank.evaluate.ties)."""
    from judgerank.responses import VERDICT_RULES

    ties = next(iter(table_of.values())).gold_ties
    table = Table(title=title or f"agreement with {pairs} gold labels ({ties} ties)",
                  caption="2-way: pairs with a decisive gold label, a tie verdict counts wrong; 3-way: every pair, "
                  "tie its own class, (b) and (c) with a tie region cross-fitted on the labels (5 folds)",
                  caption_justify="left")
    for col in ("verdict", "2-way acc", "2-way κ", "3-way acc", "3-way κ"):
        if col == "verdict":
            table.add_column(col, no_wrap=True, overflow="ellipsis", min_width=26, max_width=max(26, out.width - 52))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    for rule, a in table_of.items():
        table.add_row(VERDICT_RULES.get(rule, rule), f(a.accuracy_2way), f(a.kappa_2way), f(a.accuracy_3way),
                      f(a.kappa_3way))
    out.print(table)


def _print_diagnostics(d: dict) -> None:
    def pct(x):
        return "–" if x is None else f"{100 * x:.1f}%"

    err.print(
        f"diagnostics over {d['pairs']} pairs: position consistency {pct(d['position_consistency'])}, "
        f"naive ties {pct(d['naive_tie_rate'])}, mean P(tie) {pct(d['mean_p_tie'])}; "
        f"score-vs-pair conflicts naive {pct(d['naive_score_inconsistency'])} / probabilistic "
        f"{pct(d['probability_score_inconsistency'])}; intransitive triads ({d['triads']}) naive "
        f"{pct(d['naive_intransitive_rate'])} / probabilistic {pct(d['probability_intransitive_rate'])}",
        soft_wrap=True,
        markup=False,
    )
