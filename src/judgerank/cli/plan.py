"""`judgerank methods` and `judgerank plan`: the method registry, and what a method will cost before it runs."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import typer

from judgerank.cli.app import app, out
from judgerank.cli.options import FormatOpt, method_options, with_method_options
from judgerank.cli.show import as_tables, emit, table
from judgerank.cli.tasks import ACTIVITY
from judgerank.core.errors import JudgerankError
from judgerank.rerank.plan import Prediction, predict
from judgerank.runtime import ModelSpec, build_backend
from judgerank.strategies.registry import DEFAULT_JUDGE_METHOD, DEFAULT_RERANK_METHOD, METHODS, Options, method_for, names_for


@app.command()
def methods(format: FormatOpt = None) -> None:
    """List the ranking methods: the jobs each serves, what it needs, its options, what its
    score means and what a ranking cut short by a budget holds."""
    defaults = {DEFAULT_RERANK_METHOD: "rerank", DEFAULT_JUDGE_METHOD: "judge"}
    if not as_tables(format):
        for m in METHODS.values():
            emit({"name": m.name, "summary": m.summary, "jobs": sorted(m.jobs), "needs": sorted(m.needs),
                  "options": list(m.options), "score": m.score, "partial": m.partial,
                  "default_for": defaults.get(m.name)})
        return
    for m in METHODS.values():
        mark = f" (default for {defaults[m.name]})" if m.name in defaults else ""
        opts = ", ".join("--" + o.replace("_", "-") for o in m.options) or "none"
        out.print(f"[bold]{m.name}[/bold]{mark}: {m.summary}", highlight=False)
        out.print(f"    jobs: {', '.join(sorted(m.jobs))}; needs: {', '.join(sorted(m.needs))}; options: {opts}", highlight=False)
        out.print(f"    score: {m.score}; partial: {m.partial}", highlight=False)


@app.command()
@with_method_options
def plan(
    n: Annotated[int, typer.Option("--n", help="Candidates to rank.", min=1)] = 100,
    method: Annotated[str, typer.Option(help="Methods to predict, comma-separated, or 'all' (every rerank method).")] = "all",
    model: Annotated[str | None, typer.Option(help="Named model or GGUF path whose tokenizer counts the tokens and "
                                                   "whose shape gives the FLOPs (default: the embedded model).")] = None,
    passage_tokens: Annotated[int, typer.Option(help="Tokens of each candidate.", min=1)] = 100,
    query_tokens: Annotated[int, typer.Option(help="Tokens of the query.", min=1)] = 10,
    cached: Annotated[float, typer.Option(help="Share of the judgments already in the cache (0-1).", min=0.0,
                                          max=1.0)] = 0.0,
    trials: Annotated[int, typer.Option(help="Simulated runs for the methods whose calls depend on the answers.",
                                        min=1)] = 20,
    noise: Annotated[float, typer.Option(help="The simulated judge's noise (log-odds; bench/judge_noise.py measures "
                                               "a model's).", min=0.0)] = 0.0,
    position_bias: Annotated[float, typer.Option(help="The simulated judge's bias toward the first item shown.")] = 0.0,
    spread: Annotated[float, typer.Option(help="How far apart the simulated judge sees the candidates: the spread "
                                               "of their strengths on its log-odds scale.", min=0.0)] = 2.0,
    format: FormatOpt = None,
    **options: Any,
) -> None:
    """Predict what methods will cost before running them: LLM calls, dependent rounds (batches
    that wait for earlier answers), prompt tokens and FLOPs (E2R-FLOPs' estimate).

    Methods whose calls do not depend on the answers are exact (their formula is shown); the
    others are run against the simulated judge on random lists: the mean and the range over
    --trials runs."""
    names = names_for("rerank") if method == "all" else [m.strip() for m in method.split(",") if m.strip()]
    for name in names:
        method_for("rerank", name)
    opts, tables = Options.of(method_options(options)), as_tables(format)
    predictions: list[Prediction] = []
    with ACTIVITY.showing("planning", len(names)) as activity:
        activity.advance(f"loading the tokenizer of {model or 'the embedded model'}")
        count, shape, label = _tokenizer(model)
        for name in names:
            activity.label = f"planning {name}"
            predictions.append(predict(name, n, opts, cached=cached, trials=trials, passage_tokens=passage_tokens,
                                       query_tokens=query_tokens, noise=noise, position_bias=position_bias,
                                       count_tokens=count, shape=shape, spread=spread,
                                       progress=partial(_runs_done, activity, name, trials),
                                       model=ModelSpec.parse(model).label))
            activity.advance(f"planned {name}")
            if not tables:
                emit(predictions[-1].as_dict())
    if tables:
        _show_plan(predictions, f"{n} candidates, passages of {passage_tokens} tokens ({label}), {cached:.0%} cached")


def _runs_done(activity: Any, name: str, trials: int, done: int) -> None:
    activity.note(f"planning {name}: {done}/{trials} runs")


def _show_plan(predictions: list[Any], title: str) -> None:
    def fmt(r: Any, sci: bool = False) -> str:
        show = (lambda v: f"{v:.2e}") if sci else (lambda v: f"{v:,.0f}")
        return show(r.mean) if r.low == r.high else f"{show(r.mean)} ({show(r.low)}-{show(r.high)})"

    t = table(title, ("method", "calls", "rounds", "prompt tokens", "FLOPs", "how"), left=("method", "how"))
    for p in predictions:
        how = "exact" if p.formula else f"simulated x{p.trials}"
        t.add_row(p.method, fmt(p.calls), fmt(p.rounds), fmt(p.prompt_tokens), fmt(p.flops, sci=True), how)
    out.print(t)
    out.print("simulated: the mean (range) over the runs. exact:", highlight=False)
    for p in predictions:
        if p.formula:
            out.print(f"  {p.method}: {p.formula}", highlight=False, soft_wrap=True)


def _tokenizer(model: str | None) -> tuple[Any, Any, str]:
    """The model's prompt-token counter and shape (judgerank plan), loaded from its GGUF."""
    from judgerank.backends.llamacpp import LlamaCppBackend  # llama_cpp itself: only now

    spec = ModelSpec.parse(model)
    spec.check()
    backend = build_backend(ModelSpec(spec.kind, spec.name, threads=1))
    if not isinstance(backend, LlamaCppBackend):
        raise JudgerankError(f"plan counts tokens with a local GGUF's tokenizer; {model} is not one")
    return (lambda messages: len(backend.prompt_tokens(messages))), backend.shape, f"{spec.label} tokens"
