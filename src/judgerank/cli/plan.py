"""`judgerank methods` and `judgerank plan`: the method registry, and what a method will cost before it runs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from judgerank.cli.base import app, out, with_method_options


@app.command()
def methods() -> None:
    """List the ranking methods: the jobs each serves, what it needs, its options, what its
    score means and what a ranking cut short by a budget holds."""
    from judgerank.methods import DEFAULT_JUDGE_METHOD, DEFAULT_RERANK_METHOD, METHODS

    defaults = {DEFAULT_RERANK_METHOD: "rerank", DEFAULT_JUDGE_METHOD: "judge"}
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the predictions as JSON lines.")] = False,
    **options: Any,
) -> None:
    """Predict what methods will cost before running them: LLM calls, dependent rounds (batches
    that wait for earlier answers), prompt tokens and FLOPs (E2R-FLOPs' estimate).

    Methods whose calls do not depend on the answers are exact (their formula is shown); the
    others are run against the simulated judge on random lists: the mean and the range over
    --trials runs."""
    from judgerank.methods import Options, method_for, names_for
    from judgerank.plan import predict

    names = names_for("rerank") if method == "all" else [m.strip() for m in method.split(",") if m.strip()]
    for name in names:
        method_for("rerank", name)
    opts = Options.of({k: v for k, v in options.items() if v is not None})
    count, shape, label = _tokenizer(model)
    table = Table("method", "calls", "rounds", "prompt tokens", "FLOPs", "how", title=(
        f"{n} candidates, passages of {passage_tokens} tokens ({label}), {cached:.0%} cached"))
    formulas = []
    for name in names:
        p = predict(name, n, opts, cached=cached, trials=trials, passage_tokens=passage_tokens,
                    query_tokens=query_tokens, noise=noise, position_bias=position_bias, count_tokens=count, shape=shape,
                    spread=spread)
        if as_json:
            out.print_json(json.dumps(p.as_dict()))
            continue

        def fmt(r: Any, digits: int = 0, sci: bool = False) -> str:
            show = (lambda v: f"{v:.2e}") if sci else (lambda v: f"{v:,.{digits}f}")
            return show(r.mean) if r.low == r.high else f"{show(r.mean)} ({show(r.low)}-{show(r.high)})"

        if p.formula:
            formulas.append(f"{name}: {p.formula}")
        how = "exact" if p.formula else f"simulated x{p.trials}"
        table.add_row(name, fmt(p.calls), fmt(p.rounds), fmt(p.prompt_tokens), fmt(p.flops, sci=True), how)
    if not as_json:
        out.print(table)
        out.print("simulated: the mean (range) over the runs. exact:", highlight=False)
        for line in formulas:
            out.print(f"  {line}", highlight=False, soft_wrap=True)


def _tokenizer(model: str | None) -> tuple[Any, Any, str]:
    """The model's prompt-token counter and shape (judgerank plan), loaded from its GGUF."""
    from judgerank.runtime import ModelSpec, build_backend

    spec = ModelSpec.parse(model)
    spec.check()
    backend = build_backend(ModelSpec(spec.kind, spec.name, threads=1))
    return (lambda messages: len(backend.prompt_tokens(messages))), backend.shape, f"{spec.name or 'smollm2-135m'} tokens"
