"""`judgerank judge` and `judgerank judge-eval`: LLM judges ranking responses and deciding pairs, and
report cards of judges (and juries) on labelled pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from judgerank.cli.app import STOP_MESSAGE, Interrupted, app, err, out
from judgerank.cli.options import (
    BaseUrlOpt,
    CpusOpt,
    FormatOpt,
    MaxWordsOpt,
    ModelOpt,
    NoStoreOpt,
    OrderedOpt,
    RayOpt,
    StoreOpt,
    ThreadsOpt,
    WorkersOpt,
    budget,
    check_writable,
    make_runtime,
    method_options,
    names,
    with_hearing_options,
)
from judgerank.cli.show import as_tables, emit, number, show_said, table
from judgerank.cli.tasks import (
    ACTIVITY,
    FlagTally,
    Output,
    id_of_json,
    job_spec,
    join_cluster,
    on_ray,
    print_costs,
    run_tasks,
    stopped,
)
from judgerank.core.costs import Budget, Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import WINNER_OF, Item, Query, Verdict, verdict_of
from judgerank.io.tables import write_rows
from judgerank.judge import Judge, Jury, JuryResult, PairJudgment, PairTask, RankedResponses
from judgerank.judge.files import read_judge_input
from judgerank.judge.judge import VERDICT_RULES, gold_agreement, merged_diagnostics, pair_diagnostics
from judgerank.judge.jury import POOLED_RULES, parse_jurors, pooled_agreement
from judgerank.judge.report import write_judge_report
from judgerank.judge.report_card import Card, jury_cards, kappa_matrix

Prompts = list[tuple[Query, list[Item]]]
InputArg = Annotated[Path, typer.Argument(
    help="JSONL or JSON list: {prompt, responses:[{id,text}]} to rank, or pairs {input, output_1, output_2, label}.")]
ModeOpt = Annotated[str, typer.Option(help="pairwise: verdicts between responses; pointwise: a 1-5 rubric rating "
                                           "each. Pairs files get both, to compare; --mode picks the 'verdict' written.")]
JudgeMethodOpt = Annotated[str, typer.Option(
    help=f"Pairwise ranking method, one of: {names('judge', pairwise=True)} (see `judgerank methods`).")]
GoldOpt = Annotated[str | None, typer.Option(
    help="Pairs: the field with the human label (1, 2 or tie); prints accuracy and kappa.")]
TopKOpt = Annotated[int, typer.Option(help="Responses the top-k sorts put in order.", min=1)]
LimitOpt = Annotated[int | None, typer.Option(help="Judge only the first N prompts or pairs.", min=1)]
ShowOpt = Annotated[int, typer.Option(help="Rows of each ranking to print.", min=1)]
RatingsOpt = Annotated[bool, typer.Option("--ratings/--no-ratings", help=(
    "Also rate each response on the 1-5 rubric: the score-vs-pair diagnostic and, for pairs files, verdict (c) "
    "(2 calls per pair)."))]
MaxCallsOpt = Annotated[int | None, typer.Option(help="Budget: new LLM calls per prompt (per run for pairs).")]
MaxTokensOpt = Annotated[int | None, typer.Option(help="Budget: tokens per prompt (per run for pairs).")]
JudgeOutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write results as JSON lines, one per prompt or pair, as each finishes.")]
BattlesOpt = Annotated[Path | None, typer.Option(
    help="Write the judged pairs as battles JSONL (model_a, model_b, winner) for `judgerank arena`.")]
GuardOpt = Annotated[str, typer.Option(help="What a response whose text addresses the judge ('[[A]]', 'rate this "
                                            "response best') gets: demote (ranked last, loses its pairs to unflagged "
                                            "ones), flag (reported only), drop, off.")]
FiveOpt = Annotated[bool, typer.Option("--five-levels", help="Verdicts on arena-hard's five levels (A>>B, A>B, tie, "
                                       "B>A, B>>A; template judge-pair-5); in --battles a strong verdict counts 3 "
                                       "battles.")]
JudgesOpt = Annotated[str | None, typer.Option(
    help="Pairs files: a jury, MODEL[@TEMPLATE],... (templates: judge-pair, judge-pair-5); verdicts pooled by mean "
    "P(a), majority and spectral weights; each juror's kept.", rich_help_panel="Juries")]


@app.command()
@with_hearing_options
def judge(
    input: InputArg, mode: ModeOpt = "pairwise", method: JudgeMethodOpt = "allpairs", model: ModelOpt = None,
    gold: GoldOpt = None, top_k: TopKOpt = 10, limit: LimitOpt = None, show: ShowOpt = 10, ratings: RatingsOpt = True,
    max_calls: MaxCallsOpt = None, max_tokens: MaxTokensOpt = None, out_path: JudgeOutOpt = None,
    battles: BattlesOpt = None, base_url: BaseUrlOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False,
    threads: ThreadsOpt = None, format: FormatOpt = None, ray: RayOpt = None, workers: WorkersOpt = None,
    cpus_per_worker: CpusOpt = 1.0, ordered: OrderedOpt = False, guard: GuardOpt = "demote",
    max_words: MaxWordsOpt = 400, five_levels: FiveOpt = False, judges: JudgesOpt = None, **hearing: Any,
) -> None:
    """Rank responses with an LLM judge, or score it against gold labels, with diagnostics.

    Ranking prompts' responses with --out (and no --battles), an interrupted run resumes from
    NAME.partial. With --ray, the prompts are spread over Ray workers (pairs files run here)."""
    method = _method(mode, method)
    tasks = read_judge_input(input, gold)[:limit]
    pairs = [t for t in tasks if isinstance(t, PairTask)]
    tables, limits = as_tables(format), budget(max_calls, max_tokens)
    if judges is not None:
        if not pairs or model is not None or five_levels or ray is not None or mode != "pairwise":
            raise JudgerankError("--judges pools verdicts on a pairs file ({input, output_1, output_2}) and names every "
                                 "juror (MODEL[@TEMPLATE]); leave out --model, --five-levels, --mode and --ray")
        jury = Jury(parse_jurors(judges), runtime=make_runtime(store, no_store, base_url, threads), budget=limits,
                    ratings=ratings, max_words=max_words, guard=guard, **method_options(hearing))
        _jury(jury, pairs, out_path, battles, tables)
        return
    if ray is not None and pairs:
        raise JudgerankError("--ray spreads the ranking of prompts' responses; a pairs file is judged in one process "
                             "(leave out --ray)")
    runtime = make_runtime(store, no_store, base_url, threads)
    template = "judge-pair-5" if five_levels else "judge-pair"
    judge_ = Judge(method, model, budget=limits, runtime=runtime, top_k=top_k, ratings=ratings, guard=guard,
                   max_words=max_words, template=template, **method_options(hearing))
    cluster = join_cluster(ray, workers, cpus_per_worker, ordered) if ray is not None else None  # errors first
    battle_sink = Output(battles)
    if pairs:
        _pairs(judge_, pairs, mode, Output(out_path), battle_sink, tables)
    else:
        sink = Output(out_path, resume=id_of_json if battles is None else None, method=judge_.method.name,
                      settings={"command": "judge", "input": str(input), "model": model, "base_url": base_url,
                                "top_k": top_k, "ratings": ratings, "guard": guard, "max_words": max_words,
                                "template": template,
                                "hearing": method_options(hearing)})
        prompts: Prompts = [t for t in tasks if not isinstance(t, PairTask) and t[0].id not in sink.done]
        options = {"top_k": top_k, "ratings": ratings, "guard": guard, "max_words": max_words, "template": template,
                   **method_options(hearing)}
        ray_job = (job_spec("judge", method, model, base_url, runtime, threads, cpus_per_worker, max_calls,
                            max_tokens, options), cluster) if cluster is not None else None
        _prompts(judge_, prompts, sink, battle_sink, show, tables, ray_job)
    battle_sink.finish()


def _method(mode: str, method: str) -> str:
    """The judge method --mode and --method name, or a one-line error."""
    if mode not in ("pairwise", "pointwise"):
        raise JudgerankError(f"--mode must be pairwise or pointwise, not {mode!r}")
    pairwise = names("judge", pairwise=True).split(", ")
    if mode == "pairwise" and method not in pairwise:
        raise JudgerankError(f"--method must be one of {', '.join(pairwise)}, not {method!r}")
    return "pointwise" if mode == "pointwise" else method


def _prompts(judge_: Judge, prompts: Prompts, sink: Output, battle_sink: Output, show: int, tables: bool,
             ray_job: tuple[Any, Any] | None) -> None:
    """Rank each prompt's responses, here or on Ray workers; each result written as it finishes."""
    results: list[RankedResponses] = []
    tally = FlagTally(judge_.options.guard)

    def write(n: int, record: dict[str, Any], emitted: bool = False) -> None:
        sink.record(record)
        texts = {item.id: item.text for item in prompts[n][1]}
        for battle in _battles_of(record):
            battle_sink.record(battle | {"response_a": texts[battle["model_a"]], "response_b": texts[battle["model_b"]]})
        if sink.path is None and not emitted:
            emit(record)

    def handle(n: int, result: RankedResponses) -> tuple[Costs, bool]:
        results.append(result)
        tally.add(f"prompt {result.ranking.query_id}", result.ranking.flags)
        write(n, result.as_dict(), emitted=tables)
        if tables and (sink.path is None or len(prompts) == 1):
            _show(result, *prompts[n], show, judge_)
        return result.ranking.costs, result.ranking.complete

    if ray_job is not None:
        on_ray(prompts, *ray_job, ("prompt", "prompts"), sink, sink.path, write)
        return
    done = ((n, judge_.rank(query, responses)) for n, (query, responses) in enumerate(prompts))
    run_tasks(done, len(prompts), handle, label="judging", unit=("prompt", "prompts"), sink=sink, runtime=judge_.runtime)
    if results:
        _print_diagnostics(merged_diagnostics(results).as_dict())
    tally.report()


def _pairs(judge_: Judge, pairs: list[PairTask], mode: str, sink: Output, battle_sink: Output, tables: bool) -> None:
    """Decide labelled pairs, each row written as its judgments are in; agreement with the gold labels."""
    tally = FlagTally(judge_.options.guard)

    def write(j: PairJudgment) -> None:
        tally.add(f"pair {j.task.id}", {k: f for k, f in (("output_1", j.flags_a), ("output_2", j.flags_b)) if f})
        row = j.as_dict()
        row["verdict"] = j.pointwise if mode == "pointwise" else j.probability
        sink.record(row)
        if sink.path is None and not tables:
            emit(row)
        result = (_battle_result(row) if "five_level" in row else {"winner": WINNER_OF[row["verdict"] or "tie"]})
        battle_sink.record({"prompt_id": j.task.id, "model_a": "output_1", "model_b": "output_2", **result,
                            "response_a": j.task.a.text, "response_b": j.task.b.text})
        activity.advance("judging pairs")

    STOP_MESSAGE.append(lambda: stopped(judge_.runtime))
    with ACTIVITY.showing("judging pairs", len(pairs)) as activity:
        try:
            done = judge_.compare(pairs, on_judged=write)
        except KeyboardInterrupt:
            raise Interrupted(stopped(judge_.runtime)) from None
    sink.finish()
    if done.judgments and done.judgments[0].task.gold is not None:
        _agreement(gold_agreement(done.judgments), len(done.judgments), tables)
    if done.judgments:
        _print_diagnostics(pair_diagnostics(done.judgments).as_dict())
    tally.report()
    print_costs(done.costs, len(done.judgments), int(not done.complete), unit=("pair", "pairs"))


def _jury(jury: Jury, pairs: list[PairTask], out_path: Path | None, battles: Path | None, tables: bool) -> None:
    """A jury over a pairs file: rows written once the pooled verdicts are in (every judgment is
    in the store as it comes back, so an interrupted run costs nothing to redo)."""
    sink, battle_sink = Output(out_path), Output(battles)
    STOP_MESSAGE.append(lambda: stopped(jury.runtime))
    with ACTIVITY.showing("jury", len(pairs) * len(jury.judges)) as activity:
        try:
            result = jury.compare(pairs, progress=lambda name, n: activity.advance(f"jury ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted(stopped(jury.runtime)) from None
    for pair in result.pairs:
        row = pair.as_dict()
        sink.record(row)
        if out_path is None and not tables:
            emit(row)
        winner = WINNER_OF[pair.weighted or pair.mean]
        battle_sink.record({"prompt_id": pair.task.id, "model_a": "output_1", "model_b": "output_2", "winner": winner,
                            "response_a": pair.task.a.text, "response_b": pair.task.b.text})
    if result.pairs and all(p.task.gold is not None for p in result.pairs):
        _agreement(_jury_agreement(result), len(result.pairs), tables,
                   title=f"jury of {len(jury.judges)}: agreement with {len(result.pairs)} gold labels")
    _print_jury(result)
    sink.finish()
    battle_sink.finish()


def _jury_agreement(result: JuryResult) -> dict[str, Any]:
    rows = {}
    for name in result.jurors:
        mine = result.judgments_of(name)
        if mine:
            rows.update({f"{name}: {rule}": a for rule, a in gold_agreement(mine).items() if rule != "naive"})
    rows.update({POOLED_RULES[rule]: a for rule, a in pooled_agreement(result).items()})
    return rows


def _print_jury(result: JuryResult) -> None:
    kappa = "–" if result.fleiss_kappa is None else f"{result.fleiss_kappa:.3f}"
    weights = ", ".join(f"{n} {w:.2f}" for n, w in result.juror_weight.items())
    err.print(f"inter-judge agreement (Fleiss' kappa over verdicts (b)): {kappa}; each juror's loading (its "
              "agreement with the truth as the spectral weighting estimates it without gold; negative: read "
              f"backwards): {weights}", soft_wrap=True, markup=False)
    for name, why in result.failures.items():
        err.print(f"juror {name} {why}; the pooled verdicts use the others there", soft_wrap=True, markup=False)
    for name, costs in result.costs.items():
        print_costs(costs, len(result.judgments_of(name)), 0, unit=("pair", "pairs"), prefix=f"{name}: ")


def _battles_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Battle rows from a judged prompt's pairs."""
    return [{"prompt_id": record["prompt_id"], "model_a": p["a"], "model_b": p["b"], **_battle_result(p)}
            for p in record["pairs"]]


def _battle_result(pair: dict[str, Any]) -> dict[str, Any]:
    """The winner by the probability from both orders; a five-level judge's most likely verdict,
    with a strong one (a>>b, b>>a) weighing 3 battles, as arena-hard counts them."""
    level = pair.get("five_level")
    if level is None:
        return {"winner": WINNER_OF[verdict_of(pair["p_a"] - 0.5)]}
    side: Verdict = "a" if level.startswith("a") else "b" if level.startswith("b") else "tie"
    return {"winner": WINNER_OF[side], **({"weight": 3} if ">>" in level else {})}


def _show(result: RankedResponses, query: Query, responses: list[Item], rows: int, judge_: Judge) -> None:
    texts = {i.id: i.text for i in responses}
    r = result
    t = table(f"{query.text[:80]}  [{r.ranking.method}]", ("rank", "id", "score", "rating", "text"),
              left=("id", "text"), caption=f"score: {judge_.method.score}; rating: expected rubric rating",
              wide="text", spare=50)
    for n, (rid, score) in enumerate(zip(r.ranking.ids[:rows], r.ranking.scores[:rows]), 1):
        rating = number(r.rating(rid), ".2f").replace("–", "-")
        shown = f"{score:.3f}" if score is not None else ("not judged" if not r.ranking.complete else "-")
        t.add_row(str(n), rid, shown, rating, texts[rid])
    out.print(t)
    show_said(r.ranking.explanations)
    for note in r.notes:
        err.print(f"note: {note}", markup=False)


def _agreement(rows: dict[str, Any], pairs: int, tables: bool, title: str | None = None) -> None:
    """Accuracy and kappa per verdict rule, 2-way and 3-way (see judgerank.judge.agreement)."""
    if not tables:
        emit({"agreement": {VERDICT_RULES.get(rule, rule): a.as_dict() for rule, a in rows.items()}})
        return
    ties = next(iter(rows.values())).gold_ties
    t = table(title or f"agreement with {pairs} gold labels ({ties} ties)",
              ("verdict", "2-way acc", "2-way κ", "3-way acc", "3-way κ"), left=("verdict",), wide="verdict", spare=52,
              caption="2-way: pairs with a decisive gold label, a tie verdict counts wrong; 3-way: every pair, tie its "
              "own class, (b) and (c) with a tie region cross-fitted on the labels (5 folds)")
    for rule, a in rows.items():
        t.add_row(VERDICT_RULES.get(rule, rule), number(a.accuracy_2way), number(a.kappa_2way), number(a.accuracy_3way),
                  number(a.kappa_3way))
    out.print(t)


POSITION_WARNING = 0.5  # position consistency below which the judge is said to answer by position


def _print_diagnostics(d: dict) -> None:
    def pct(x: float | None) -> str:
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
    consistency = d["position_consistency"]
    if consistency is not None and d["pairs"] >= 3 and consistency < POSITION_WARNING:
        err.print(f"note: the judge chose the same response in both orders in only {pct(consistency)} of pairs: "
                  "it answers by position more than by content, so its ranking is close to chance; judge with a "
                  "stronger model (--model qwen2.5-coder-1.5b, a GGUF path, or --base-url of a served model)",
                  soft_wrap=True, markup=False)


@app.command("judge-eval")
@with_hearing_options
def judge_eval(
    pairs: Annotated[Path, typer.Argument(help="Labelled pairs: JSON or JSONL {input, output_1, output_2, label}.")],
    judges: Annotated[str, typer.Option(help="The judges to grade, MODEL[@TEMPLATE],... (one or more); more than one "
                                             "are also pooled as a jury.")],
    gold: Annotated[str, typer.Option(help="The field with the human label (1, 2, tie, A>B, ...).")] = "label",
    report: Annotated[Path | None, typer.Option(help="Write the report card as HTML with its plots.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the cards as JSON.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N pairs.", min=1)] = None,
    max_calls: Annotated[int | None, typer.Option(help="Budget: new LLM calls per judge.")] = None,
    base_url: BaseUrlOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False, threads: ThreadsOpt = None,
    max_words: MaxWordsOpt = 400, format: FormatOpt = None, **hearing: Any,
) -> None:
    """Grade judges on labelled pairs: accuracy and kappa, position consistency, length bias,
    calibration of P(A), agreement between judges, cost per judgment."""
    check_writable(report, out_path)
    tasks = [t for t in read_judge_input(pairs, gold)[:limit] if isinstance(t, PairTask)]
    if not tasks:
        raise JudgerankError(f"{pairs}: judge-eval needs labelled pairs ({{input, output_1, output_2, {gold}}})")
    tables = as_tables(format)
    jury = Jury(parse_jurors(judges, minimum=1), runtime=make_runtime(store, no_store, base_url, threads),
                budget=Budget(max_calls), ratings=False, max_words=max_words, **method_options(hearing))
    STOP_MESSAGE.append(lambda: stopped(jury.runtime))
    with ACTIVITY.showing("judging", len(tasks) * len(jury.judges)) as activity:
        try:
            result = jury.compare(tasks, progress=lambda name, n: activity.advance(f"judging ({name}: {n} pairs)"))
        except KeyboardInterrupt:
            raise Interrupted(stopped(jury.runtime)) from None
    _cards(result, tables, out_path, report, str(pairs))


def _cards(result: JuryResult, tables: bool, out_path: Path | None, report: Path | None, source: str) -> None:
    """The report cards: a table (or JSON) on stdout, notes on stderr, JSON and HTML files if asked."""
    cards = jury_cards(result)
    if not cards:
        raise JudgerankError("no judge returned a verdict: see the failures above")
    verdicts = {name: {j.task.id: j.probability for j in result.judgments_of(name)} for name in result.jurors}
    kappas = kappa_matrix(verdicts)
    payload = {"pairs": len(result.pairs), "cards": [c.as_dict() for c in cards], "fleiss_kappa": result.fleiss_kappa,
               "judge_kappa": {"judges": kappas[0], "kappa": kappas[1].tolist()}, "failures": result.failures}
    if tables:
        _card_table(cards, len(result.pairs))
    else:
        emit(payload)
    notes = [f"juror {name} {why}" for name, why in result.failures.items()]
    if result.fleiss_kappa is not None:
        pairs_of = [f"{x} / {y} {kappas[1][i, j]:.2f}" for i, x in enumerate(kappas[0]) for j, y in enumerate(kappas[0])
                    if j < i]
        notes.append(f"Fleiss' kappa between the judges' verdicts: {result.fleiss_kappa:.3f}; Cohen's kappa by "
                     f"pair: {'; '.join(pairs_of)}")
    for note in notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        write_rows(out_path, [], document=payload)
        err.print(f"wrote {out_path}")
    if report:
        write_judge_report(cards, kappas, report, source=source, notes=notes)
        err.print(f"wrote {report}")


def _card_table(cards: list[Card], pairs: int) -> None:
    ties = any(c.agreement and c.agreement.gold_ties for c in cards)
    humans = next((c.gold_longer_preferred for c in cards if c.gold_longer_preferred is not None), None)
    columns = ["judge", "acc 2w", "κ 2w", *(("acc 3w", "κ 3w") if ties else ()), "pos", "longer", "Brier", "cost"]
    t = table(f"report card: {pairs} labelled pairs", columns, left=("judge",), wide="judge", spare=14 * len(columns),
              caption="acc, κ: against gold, verdict from both orders (2w: decisive gold pairs; 3w: ties a class); "
              "pos: position consistency; longer: share of decisive verdicts for the longer response (humans: "
              f"{number(humans, '.2f')}); cost: calls and seconds per pair (cache hits are free); JSON and HTML "
              "(--out, --report) hold every figure")
    for c in cards:
        a = c.agreement
        three = (number(a.accuracy_3way if a else None, ".2f"), number(a.kappa_3way if a else None, ".2f")) if ties else ()
        cost = "–" if c.calls_per_pair is None else f"{c.calls_per_pair:.1f}, {number(c.seconds_per_pair, '.2f')}s"
        t.add_row(c.name, number(a.accuracy_2way if a else None, ".2f"), number(a.kappa_2way if a else None, ".2f"),
                  *three, number(c.position_consistency, ".2f"), number(c.longer_preferred, ".2f"), number(c.brier),
                  cost)
    out.print(t)
