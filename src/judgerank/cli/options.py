"""Options several commands take, declared once, and what they turn into (a Runtime, a Budget,
the method options of the registry)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from judgerank.cli.tasks import ACTIVITY
from judgerank.core.costs import Budget
from judgerank.core.errors import JudgerankError
from judgerank.runtime import Runtime
from judgerank.strategies.registry import HEARING, METHODS, Options

MODEL_HELP = (
    "GGUF path, or smollm2-135m (embedded default), qwen2.5-coder-0.5b, qwen2.5-coder-1.5b; "
    "with --base-url, the name the server serves."
)
ModelOpt = Annotated[str | None, typer.Option(help=MODEL_HELP)]
BaseUrlOpt = Annotated[str | None, typer.Option(help="OpenAI-compatible server (…/v1) to judge with; --model names "
                                                     "its model.")]
StoreOpt = Annotated[
    str | None,
    typer.Option(help="Judgment store: a SQLite path or a postgresql://user:password@host/db URL shared by workers "
                 "and machines (also: JUDGERANK_STORE). Default: ~/.cache/judgerank/judgments.sqlite."),
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Do not read or write the judgment store.")]
ThreadsOpt = Annotated[int | None, typer.Option(help="llama.cpp threads for a local model (default: every core; "
                                                    "with --ray, the CPUs of a worker).", min=1)]
ContextOpt = Annotated[int | None, typer.Option(
    help="Longest prompt a local model takes, in tokens (default: 4096 for llama.cpp, the model's own for icr); "
    "first-full and icr put the whole list in one prompt.", min=16)]
MaxWordsOpt = Annotated[int, typer.Option(help="Words kept of each prompt and response, whitespace as written; longer "
                                             "texts are cut and counted in the costs (clipped_texts).", min=1)]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="What stdout gets: table (the default on a terminal) or json (one JSON value a line; the "
    "default when stdout is a file or a pipe).")]
RayOpt = Annotated[
    str | None,
    typer.Option(help="Spread the work over Ray workers: local (a cluster in this process), auto (the running "
                 "cluster, else a local one) or an address (ray://head:10001). Needs Ray (the ray extra).",
                 rich_help_panel="Past one machine"),
]
WorkersOpt = Annotated[int | None, typer.Option(help="With --ray: workers, each holding one model (default: the "
                                                     "cluster's CPUs / --cpus-per-worker).", min=1,
                                                rich_help_panel="Past one machine")]
CpusOpt = Annotated[float, typer.Option(help="With --ray: CPUs each worker takes.", min=0.01,
                                        rich_help_panel="Past one machine")]
OrderedOpt = Annotated[bool, typer.Option("--ordered/--as-finished", help="With --ray: write results in input order "
                                          "(can hold finished ones back), or as workers finish them.",
                                          rich_help_panel="Past one machine")]


def names(job: str, pairwise: bool = False) -> str:
    """The methods a job offers, comma-separated (pairwise: leaving out the pointwise ones)."""
    return ", ".join(n for n, m in METHODS.items() if job in m.jobs and not (pairwise and "pointwise" in n))


def with_method_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add every method option of the registry (judgerank.strategies.registry.Options) to a
    command, with its default and help, as keyword arguments; the command receives them in
    **options."""
    return _with_options(command, lambda meta: True)


def with_hearing_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the options of how the judge is heard (--verdicts, --samples, --reasoning, --prompt,
    ...) to a command, which receives them in **options."""
    return _with_options(command, lambda meta: meta["panel"] == HEARING)


def _with_options(command: Callable[..., None], chosen: Callable[[Any], bool]) -> Callable[..., None]:
    params = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind != p.VAR_KEYWORD]
    for f in fields(Options):
        meta = f.metadata
        if not chosen(meta):
            continue
        default = None if f.default is MISSING else f.default
        flags = [meta["flag"]] if meta["flag"] else []
        help_text = meta["help"] + (f" One of: {', '.join(meta['choices'])}." if meta["choices"] else "")
        kind = {"int": int, "int | None": int | None, "str": str, "str | None": str | None, "bool": bool,
                "float": float, "float | None": float | None}[str(f.type)]
        option = typer.Option(*flags, help=help_text, rich_help_panel=meta["panel"])
        params.append(
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, option])
        )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return command


def store_spec(store: str | None, no_store: bool) -> str | None:
    """The judgment store the options name: None (--no-store), a SQLite path, a postgresql:// URL,
    or "default" (JUDGERANK_STORE, else the user's store)."""
    if no_store and store is not None:
        raise JudgerankError("give --store or --no-store, not both")
    return None if no_store else store or "default"


def make_runtime(store: str | None, no_store: bool, base_url: str | None, threads: int | None = None,
                 context: int | None = None) -> Runtime:
    """The command's Runtime, reporting model loads and judgments to the progress line."""
    return Runtime(store=store_spec(store, no_store), base_url=base_url, threads=threads, context=context,
                   observer=ACTIVITY)


def budget(max_calls: int | None, max_tokens: int | None) -> Budget:
    for flag, value in (("--max-calls", max_calls), ("--max-tokens", max_tokens)):
        if value is not None and value < 0:
            raise JudgerankError(f"{flag} must be 0 or more, not {value}")
    return Budget(max_calls, max_tokens)


def method_options(options: dict[str, Any]) -> dict[str, Any]:
    """The method options given on the command line (None: left at the registry's default)."""
    return {k: v for k, v in options.items() if v is not None}


def check_writable(*paths: Path | None) -> None:
    """Fail before any work on an output file that cannot be written."""
    for path in paths:
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise JudgerankError(f"{path}: cannot write (no folder {folder})")
        if path.is_dir():
            raise JudgerankError(f"{path}: cannot write (it is a folder)")
