"""`judgerank arena`, `swiss` and `winrate`: ratings, tournaments and leaderboards from battles."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from judgerank.cli.base import _check_writable, app, err, out
from judgerank.errors import JudgerankError


@app.command()
def arena(
    battles: Annotated[Path, typer.Argument(help="Battles: CSV or JSONL (.gz ok) with model_a, model_b, winner.")],
    method: Annotated[
        str, typer.Option(help="bradley-terry, elo, rank-centrality, pagerank, win-rate, copeland.")
    ] = "bradley-terry",
    ties: Annotated[str, typer.Option(help="half: a tie is half a win each; ignore: ties are left out.")] = "half",
    both_bad: Annotated[str, typer.Option(help="tie: both_bad counts as a tie; ignore: it is dropped.")] = "tie",
    bootstrap: Annotated[int, typer.Option(help="Resamples for 95% intervals (0: none).", min=0)] = 0,
    sandwich: Annotated[
        bool, typer.Option("--sandwich", help="Bradley-Terry: 95% intervals from the robust (sandwich) covariance.")
    ] = False,
    style: Annotated[
        bool,
        typer.Option(
            "--style",
            help="Style control: fit ratings with the battles' length, header, list and bold differences "
            "(from response_a/response_b or conversation_a/conversation_b), as LMArena does.",
        ),
    ] = False,
    features: Annotated[
        str | None, typer.Option(help="Style control on numeric columns you name, comma-separated (with or without --style).")
    ] = None,
    style_reg: Annotated[
        float,
        typer.Option(help="L2 penalty on the style coefficients, per battle (arena-rank's default: 1.0, which "
                     "shrinks them about 6-fold).", min=0.0),
    ] = 1e-3,
    reweight: Annotated[
        bool, typer.Option("--reweight", help="Style control: weight battles by 1/(pair frequency), as arena-rank does.")
    ] = False,
    anchor: Annotated[
        str | None,
        typer.Option(help="NAME or NAME=RATING: pin this player's rating (default 1000, or 0 with --scale raw); "
                     "adds each player's predicted win rate against it."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and of Elo's shuffles.")] = 0,
    prior: Annotated[
        float, typer.Option(help="Bradley-Terry prior, in virtual games against an average player.", min=0.0)
    ] = 0.0,
    scale: Annotated[str, typer.Option(help="elo: 1000 + 400 log10(strength); raw: log-strength.")] = "elo",
    k: Annotated[float, typer.Option(help="Elo K factor (above 0).", min=1e-9)] = 4.0,
    shuffles: Annotated[int, typer.Option(help="Elo: battle orders averaged.", min=1)] = 100,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the leaderboard: .json or .csv.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report with plots.")] = None,
    show: Annotated[int, typer.Option(help="Rows to print.", min=1)] = 20,
) -> None:
    """Rank players from battle records, with intervals and a report."""
    for path in (out_path, report):
        _check_writable(path)
    from judgerank.arena import arena as run_arena
    from judgerank.io.battles import read_battles

    for name, value, allowed in (
        ("--ties", ties, ("half", "ignore")),
        ("--both-bad", both_bad, ("tie", "ignore")),
        ("--scale", scale, ("elo", "raw")),
    ):
        if value not in allowed:
            raise JudgerankError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features is not None else ()
    if features is not None and not names:
        raise JudgerankError("--features needs column names, comma-separated")
    anchor_name, anchor_rating = _anchor(anchor)
    data = read_battles(battles, both_bad=both_bad, features=names, style=style)  # type: ignore[arg-type]
    board = run_arena(
        data.battles, method, ties=ties, bootstrap=bootstrap, sandwich=sandwich, seed=seed,  # type: ignore[arg-type]
        prior=prior, scale=scale, k=k, shuffles=shuffles,  # type: ignore[arg-type]
        covariates=data.rows_with_covariates, reg=style_reg, reweight=reweight, anchor=anchor_name,
        anchor_rating=anchor_rating,
    )
    board.notes.extend(data.notes)
    if data.self_battles:
        board.notes.append(f"{data.self_battles} self-battles (a player against itself) were left out")
    if data.dropped_both_bad:
        board.notes.append(f"{data.dropped_both_bad} both_bad battles were dropped")
    has_ci = board.rows[0].lower is not None
    vs = (f"vs {anchor_name}",) if anchor_name else ()
    styled = " (style-controlled)" if board.coefficients else ""
    table = Table(title=f"{method}{styled}: {len(board.rows)} players, {data.rows} battles read")
    for col in ("rank", "player", "rating", *(("95% interval",) if has_ci else ()), "battles", "win rate", *vs):
        if col == "player":
            table.add_column(col, overflow="ellipsis", no_wrap=True, max_width=max(12, out.width - 60))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for r in board.rows[:show]:
        ci = (f"{r.lower:.1f} – {r.upper:.1f}",) if has_ci else ()
        rate = "–" if r.win_rate is None else f"{r.win_rate:.3f}"
        against = (f"{r.vs_anchor:.3f}",) if anchor_name and r.vs_anchor is not None else ("–",) * len(vs)
        table.add_row(str(r.rank), r.player, f"{r.rating:.2f}", *ci, str(r.battles), rate, *against)
    out.print(table)
    if board.coefficients:
        coef = Table(title="covariates: effect on the log-odds of winning, per standard deviation")
        for col in ("covariate", "coefficient", *(("95% interval",) if has_ci else ())):
            coef.add_column(col, justify="left" if col == "covariate" else "right", no_wrap=True)
        for c in board.coefficients:
            span = (f"{c.lower:+.3f} – {c.upper:+.3f}",) if has_ci and c.lower is not None and c.upper is not None else ()
            coef.add_row(c.name, f"{c.value:+.4f}", *span)
        out.print(coef)
    for note in board.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        _write_leaderboard(board, out_path)
        err.print(f"wrote {out_path}")
    if report:
        from judgerank.report import write_report

        write_report(board, report, source=str(battles))
        err.print(f"wrote {report}")
    err.print(f"{method} in {board.seconds:.2f} s")


@app.command()
def swiss(
    battles: Annotated[Path, typer.Argument(help="The tournament's games so far: CSV or JSONL with model_a, model_b, "
                                                 "winner.")],
    rounds: Annotated[int, typer.Option(help="Rounds the tournament has in all.", min=1)],
    simulations: Annotated[int, typer.Option(help="Continuations simulated per estimate.", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulations.")] = 0,
    show: Annotated[int, typer.Option(help="Rows to print.", min=1)] = 20,
) -> None:
    """Where a Swiss tournament is heading: each player's expected final score over simulated
    continuations (each game won with the Bradley-Terry probability of the games so far), and
    the next round's pairings, the one whose result moves the expected scores most first.
    Players are seeded by their current Bradley-Terry strength."""
    import numpy as np

    from judgerank.aggregate.bradley_terry import bradley_terry
    from judgerank.io.battles import read_battles
    from judgerank.strategies.tournament import Swiss, swiss_outlook

    data = read_battles(battles, both_bad="tie")
    b = data.battles
    if b.total != int(b.total) or np.any(b.count != np.rint(b.count)):
        raise JudgerankError(f"{battles}: a tournament's games count one each; weighted rows cannot be replayed")
    games = [(b.players[x], b.players[y], float(o)) for x, y, o, c in zip(b.a, b.b, b.outcome, b.count)
             for _ in range(int(c))]
    strength = bradley_terry(b.win_matrix(), prior=1.0)
    seeded = [b.players[i] for i in np.argsort(-strength, kind="stable")]
    outlook = swiss_outlook(Swiss(seeded), games, rounds, simulations=simulations, seed=seed)
    table = Table(title=f"Swiss: {len(seeded)} players, {outlook.played} of {rounds} rounds played, "
                        f"{simulations} simulated continuations")
    for col in ("rank", "player", "score", "expected final"):
        table.add_column(col, justify="left" if col == "player" else "right")
    ranked = sorted(seeded, key=lambda p: (-outlook.expected[p], -outlook.scores[p]))
    for n, p in enumerate(ranked[:show], 1):
        table.add_row(str(n), p, f"{outlook.scores[p]:g}", f"{outlook.expected[p]:.2f}")
    out.print(table)
    if outlook.next_round:
        nxt = Table(title="next round: the pairing whose result matters most first")
        for col in ("pairing", "P(first wins)", "impact"):
            nxt.add_column(col, justify="left" if col == "pairing" else "right")
        for g in outlook.next_round[:show]:
            nxt.add_row(f"{g.a} vs {g.b}", f"{g.p_a:.2f}", f"{g.impact:.2f}")
        out.print(nxt)
        err.print("impact: the expected total change of the expected final scores once that game is decided")
    else:
        err.print("the tournament is over: expected final scores are the scores")


@app.command()
def winrate(
    judged: Annotated[
        Path,
        typer.Argument(help="AlpacaEval annotations (generator_1/2, output_1/2, preference) or battles with "
                       "response_a/response_b texts, JSON or JSONL."),
    ],
    baseline: Annotated[str, typer.Option(help="The model every other is compared with (AlpacaEval 2: gpt4_1106_preview).")],
    difficulty: Annotated[
        Path | None, typer.Option(help="CSV: instruction key (index or text), difficulty. Default: estimated from the file.")
    ] = None,
    gamed: Annotated[
        Path | None,
        typer.Option(help="AlpacaEval's df_gamed.csv: the baseline against verbose/concise selves, which regularises "
                     "each model's length slope (and carries the difficulty)."),
    ] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table as .json or .csv.")] = None,
) -> None:
    """Win rates against a baseline, raw and length-controlled (AlpacaEval 2's GLM)."""
    _check_writable(out_path)
    from judgerank.io.annotations import read_difficulty, read_gamed, read_judged
    from judgerank.length_control import length_controlled_win_rates

    data = read_judged(judged, baseline)
    gamed_rows, keys = read_gamed(gamed) if gamed else ([], None)
    table_of = read_difficulty(difficulty) if difficulty else keys
    rates = length_controlled_win_rates(data.rows, baseline, table_of, gamed_rows)
    table = Table(title=f"win rate against {baseline}: {len(rates)} models, {len(data.rows)} judged instructions",
                  caption="LC: length-controlled (the judge's preference had the outputs been equally long); "
                  "length slope < 0: longer than the baseline's wins more", caption_justify="left")
    for col in ("rank", "model", "n", "win rate", "LC win rate", "length slope"):
        if col == "model":
            table.add_column(col, overflow="ellipsis", no_wrap=True, max_width=max(12, out.width - 62))
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for rank, w in enumerate(rates, 1):
        table.add_row(str(rank), w.model, str(w.n), f"{w.win_rate:.2f} ± {w.standard_error:.2f}",
                      f"{w.lc_win_rate:.2f} ± {w.lc_standard_error:.2f}", f"{w.length_coefficient:+.3f}")
    out.print(table)
    if data.without_baseline:
        err.print(f"note: {data.without_baseline} records without {baseline} on one side were left out", markup=False)
    if data.undecided:
        err.print(f"note: {data.undecided} records without a preference were left out", markup=False)
    if table_of is None:
        err.print("note: instruction difficulty estimated from these judgments (give --difficulty or --gamed for "
                  "AlpacaEval's)", markup=False)
    if out_path:
        _write_rows([w.as_dict() for w in rates], out_path)
        err.print(f"wrote {out_path}")


def _write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    import csv

    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            else:
                json.dump(rows, fh, indent=1)
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc


def _anchor(spec: str | None) -> tuple[str | None, float | None]:
    """--anchor NAME or NAME=RATING."""
    if spec is None:
        return None, None
    name, sep, value = spec.rpartition("=") if "=" in spec else (spec, "", "")
    if not sep:
        return spec, None
    try:
        rating = float(value)
    except ValueError:
        raise JudgerankError(f"--anchor {spec!r}: the rating after '=' must be a number") from None
    if not name or not math.isfinite(rating):
        raise JudgerankError(f"--anchor {spec!r}: use NAME or NAME=RATING with a finite rating")
    return name, rating


def _write_leaderboard(board, path: Path) -> None:
    import csv
    from dataclasses import asdict

    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(asdict(board.rows[0])))
                writer.writeheader()
                writer.writerows(asdict(r) for r in board.rows)
            else:
                json.dump(board.as_dict(), fh, indent=1)
    except OSError as exc:
        raise JudgerankError(f"{path}: cannot write ({exc.strerror})") from exc
