"""`judgerank arena`, `swiss` and `winrate`: ratings, tournaments and leaderboards from battles."""

from __future__ import annotations

import math
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from judgerank.aggregate.bradley_terry import bradley_terry
from judgerank.arena.files import BattleFile, read_battles, read_difficulty, read_gamed, read_judged
from judgerank.arena.raters import Anchor, Bootstrap, Sandwich, rater
from judgerank.arena.ratings import Leaderboard, rate_players
from judgerank.arena.report import write_report
from judgerank.arena.winrate import length_controlled_win_rates
from judgerank.cli.app import STOP_MESSAGE, app, err, out
from judgerank.cli.options import (
    BaseUrlOpt,
    FormatOpt,
    ModelOpt,
    NoStoreOpt,
    StoreOpt,
    check_writable,
    make_runtime,
)
from judgerank.cli.show import as_tables, emit, table
from judgerank.core.errors import JudgerankError
from judgerank.io.tables import write_rows
from judgerank.strategies.swiss import Swiss, swiss_outlook

BattlesArg = Annotated[Path, typer.Argument(help="Battles: CSV or JSONL (.gz ok) with model_a, model_b, winner.")]
MethodOpt = Annotated[str, typer.Option(help="bradley-terry, elo, rank-centrality, pagerank, win-rate, copeland.")]
TiesOpt = Annotated[str, typer.Option(help="half: a tie is half a win each; ignore: ties are left out.")]
BothBadOpt = Annotated[str, typer.Option(help="tie: both_bad counts as a tie; ignore: it is dropped.")]
BootstrapOpt = Annotated[int, typer.Option(help="Resamples for 95% intervals (0: none).", min=0)]
SandwichOpt = Annotated[bool, typer.Option("--sandwich", help="Bradley-Terry: 95% intervals from the robust "
                                                              "(sandwich) covariance.")]
StyleOpt = Annotated[bool, typer.Option("--style", help="Style control: fit ratings with the battles' length, header, "
                                        "list and bold differences (from response_a/response_b or conversation_a/"
                                        "conversation_b), as LMArena does.")]
FeaturesOpt = Annotated[str | None, typer.Option(help="Style control on numeric columns you name, comma-separated "
                                                      "(with or without --style).")]
StyleRegOpt = Annotated[float, typer.Option(help="L2 penalty on the style coefficients, per battle (arena-rank's "
                                                 "default: 1.0, which shrinks them about 6-fold).", min=0.0)]
ReweightOpt = Annotated[bool, typer.Option("--reweight", help="Style control: weight battles by 1/(pair frequency), "
                                                              "as arena-rank does.")]
AnchorOpt = Annotated[str | None, typer.Option(help="NAME or NAME=RATING: pin this player's rating (default 1000, or 0 "
                                                    "with --scale raw); adds each player's predicted win rate against it.")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the bootstrap and of Elo's shuffles.", min=0)]
PriorOpt = Annotated[float, typer.Option(help="Bradley-Terry prior, in virtual games against an average player.",
                                         min=0.0)]
ScaleOpt = Annotated[str, typer.Option(help="elo: 1000 + 400 log10(strength); raw: log-strength.")]
KOpt = Annotated[float, typer.Option(help="Elo K factor (above 0).", min=1e-9)]
ShufflesOpt = Annotated[int, typer.Option(help="Elo: battle orders averaged.", min=1)]
ArenaOutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the leaderboard: .json or .csv.")]
ReportOpt = Annotated[Path | None, typer.Option(help="Write a self-contained HTML report with plots.")]
ShowOpt = Annotated[int, typer.Option(help="Rows to print.", min=1)]


@app.command()
def arena(
    battles: BattlesArg, method: MethodOpt = "bradley-terry", ties: TiesOpt = "half", both_bad: BothBadOpt = "tie",
    bootstrap: BootstrapOpt = 0, sandwich: SandwichOpt = False, style: StyleOpt = False,
    features: FeaturesOpt = None, style_reg: StyleRegOpt = 1e-3, reweight: ReweightOpt = False,
    anchor: AnchorOpt = None, seed: SeedOpt = 0, prior: PriorOpt = 0.0, scale: ScaleOpt = "elo", k: KOpt = 4.0,
    shuffles: ShufflesOpt = 100, out_path: ArenaOutOpt = None, report: ReportOpt = None, show: ShowOpt = 20,
    format: FormatOpt = None,
) -> None:
    """Rank players from battle records, with intervals and a report."""
    check_writable(out_path, report)
    tables = as_tables(format)
    for name, value, allowed in (("--both-bad", both_bad, ("tie", "ignore")), ("--ties", ties, ("half", "ignore")),
                                 ("--scale", scale, ("elo", "raw"))):
        if value not in allowed:
            raise JudgerankError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features is not None else ()
    if features is not None and not names:
        raise JudgerankError("--features needs column names, comma-separated")
    pin = _anchor(anchor)
    if (style or names) and method != "bradley-terry":
        raise JudgerankError("style control (covariates) needs the bradley-terry method")
    data = read_battles(battles, both_bad=both_bad, features=names, style=style)  # type: ignore[arg-type]
    settings: dict[str, dict[str, Any]] = {
        "bradley-terry": {"prior": prior, "covariates": data.rows_with_covariates, "reg": style_reg,
                          "reweight": reweight},
        "elo": {"k": k, "shuffles": shuffles}}
    interval = Sandwich() if sandwich else Bootstrap(bootstrap) if bootstrap else None
    board = rate_players(data.battles, rater(method, **settings.get(method, {})), interval, ties=ties,  # type: ignore[arg-type]
                         scale=scale, seed=seed, anchor=pin)  # type: ignore[arg-type]  # both checked above
    board.notes.extend(_file_notes(data))
    if tables:
        _show_board(board, data.rows, pin, show)
    else:
        emit(board.as_dict())
    for note in board.notes:
        err.print(f"note: {note}", soft_wrap=True, markup=False)
    if out_path:
        write_rows(out_path, [asdict(r) for r in board.rows], document=board.as_dict())
        err.print(f"wrote {out_path}")
    if report:
        write_report(board, report, source=str(battles))
        err.print(f"wrote {report}")
    err.print(f"{method} in {board.seconds:.2f} s")


def _file_notes(data: BattleFile) -> list[str]:
    notes = list(data.notes)
    if data.self_battles:
        notes.append(f"{data.self_battles} self-battles (a player against itself) were left out")
    if data.dropped_both_bad:
        notes.append(f"{data.dropped_both_bad} both_bad battles were dropped")
    return notes


def _show_board(board: Leaderboard, read: int, pin: Anchor | None, show: int) -> None:
    has_ci = board.rows[0].lower is not None
    vs = (f"vs {pin.player}",) if pin else ()
    styled = " (style-controlled)" if board.coefficients else ""
    t = table(f"{board.method}{styled}: {len(board.rows)} players, {read} battles read",
              ("rank", "player", "rating", *(("95% interval",) if has_ci else ()), "battles", "win rate", *vs),
              left=("player",), wide="player", spare=60)
    for r in board.rows[:show]:
        ci = (f"{r.lower:.1f} – {r.upper:.1f}",) if has_ci else ()
        rate = "–" if r.win_rate is None else f"{r.win_rate:.3f}"
        against = (f"{r.vs_anchor:.3f}",) if pin and r.vs_anchor is not None else ("–",) * len(vs)
        t.add_row(str(r.rank), r.player, f"{r.rating:.2f}", *ci, str(r.battles), rate, *against)
    out.print(t)
    if board.coefficients:
        coef = table("covariates: effect on the log-odds of winning, per standard deviation",
                     ("covariate", "coefficient", *(("95% interval",) if has_ci else ())), left=("covariate",))
        for c in board.coefficients:
            span = (f"{c.lower:+.3f} – {c.upper:+.3f}",) if has_ci and c.lower is not None and c.upper is not None else ()
            coef.add_row(c.name, f"{c.value:+.4f}", *span)
        out.print(coef)


def _anchor(spec: str | None) -> Anchor | None:
    """--anchor NAME or NAME=RATING."""
    if spec is None:
        return None
    name, sep, value = spec.rpartition("=") if "=" in spec else (spec, "", "")
    if not sep:
        return Anchor(spec)
    try:
        rating = float(value)
    except ValueError:
        raise JudgerankError(f"--anchor {spec!r}: the rating after '=' must be a number") from None
    if not name or not math.isfinite(rating):
        raise JudgerankError(f"--anchor {spec!r}: use NAME or NAME=RATING with a finite rating")
    return Anchor(name, rating)


@app.command()
def swiss(
    battles: Annotated[Path, typer.Argument(help="The tournament's games so far: CSV or JSONL with model_a, model_b, "
                                                 "winner.")],
    rounds: Annotated[int, typer.Option(help="Rounds the tournament has in all.", min=1)],
    simulations: Annotated[int, typer.Option(help="Continuations simulated per estimate.", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulations.")] = 0,
    show: ShowOpt = 20,
    format: FormatOpt = None,
) -> None:
    """Where a Swiss tournament is heading: each player's expected final score over simulated
    continuations (each game won with the Bradley-Terry probability of the games so far), and
    the next round's pairings, the one whose result moves the expected scores most first.
    Players are seeded by their current Bradley-Terry strength."""
    tables = as_tables(format)
    b = read_battles(battles, both_bad="tie").battles
    if b.total != int(b.total) or np.any(b.count != np.rint(b.count)):
        raise JudgerankError(f"{battles}: a tournament's games count one each; weighted rows cannot be replayed")
    games = [(b.players[x], b.players[y], float(o)) for x, y, o, c in zip(b.a, b.b, b.outcome, b.count)
             for _ in range(int(c))]
    strength = bradley_terry(b.win_matrix(), prior=1.0)
    seeded = [b.players[i] for i in np.argsort(-strength, kind="stable")]
    outlook = swiss_outlook(Swiss(seeded), games, rounds, simulations=simulations, seed=seed)
    ranked = sorted(seeded, key=lambda p: (-outlook.expected[p], -outlook.scores[p]))
    if not tables:
        emit({"played": outlook.played, "rounds": rounds, "players": [
            {"player": p, "score": outlook.scores[p], "expected": outlook.expected[p]} for p in ranked],
            "next_round": [asdict(g) for g in outlook.next_round]})
        return
    t = table(f"Swiss: {len(seeded)} players, {outlook.played} of {rounds} rounds played, {simulations} simulated "
              "continuations", ("rank", "player", "score", "expected final"), left=("player",))
    for n, p in enumerate(ranked[:show], 1):
        t.add_row(str(n), p, f"{outlook.scores[p]:g}", f"{outlook.expected[p]:.2f}")
    out.print(t)
    if not outlook.next_round:
        err.print("the tournament is over: expected final scores are the scores")
        return
    nxt = table("next round: the pairing whose result matters most first", ("pairing", "P(first wins)", "impact"),
                left=("pairing",))
    for g in outlook.next_round[:show]:
        nxt.add_row(f"{g.a} vs {g.b}", f"{g.p_a:.2f}", f"{g.impact:.2f}")
    out.print(nxt)
    err.print("impact: the expected total change of the expected final scores once that game is decided")


@app.command()
def winrate(
    judged: Annotated[Path | None, typer.Argument(
        help="AlpacaEval annotations (generator_1/2, output_1/2, preference) or battles with response_a/response_b "
        "texts, JSON or JSONL. Or give --outputs and --reference to judge them first.")] = None,
    baseline: Annotated[str | None, typer.Option(help="The model every other is compared with (AlpacaEval 2: "
                                                      "gpt4_1106_preview; with --reference: its generator).")] = None,
    outputs: Annotated[list[Path] | None, typer.Option(
        help="A model's outputs in alpaca_eval's layout ({instruction, output, generator}, JSON or JSONL), judged "
        "against --reference's on the same instructions; repeat for several models.")] = None,
    reference: Annotated[Path | None, typer.Option(help="The reference model's outputs, in the same layout.")] = None,
    annotations_path: Annotated[Path | None, typer.Option(
        "--annotations", help="With --outputs: write the judged pairs as AlpacaEval annotations (winrate reads "
        "them).")] = None,
    model: ModelOpt = None, base_url: BaseUrlOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False,
    difficulty: Annotated[Path | None, typer.Option(
        help="CSV: instruction key (index or text), difficulty. Default: estimated from the file.")] = None,
    gamed: Annotated[Path | None, typer.Option(
        help="AlpacaEval's df_gamed.csv: the baseline against verbose/concise selves, which regularises each model's "
        "length slope (and carries the difficulty).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table as .json or .csv.")] = None,
    format: FormatOpt = None,
) -> None:
    """Win rates against a baseline, raw and length-controlled (AlpacaEval 2's GLM).

    From judged annotations, or in one command from model outputs and a reference's outputs
    (alpaca_eval's layout): each pair is judged in both orders by --model, kept in the judgment
    store, and the win rates computed from the judgments."""
    check_writable(out_path, annotations_path)
    tables = as_tables(format)
    if outputs:
        if judged is not None or reference is None:
            raise JudgerankError("--outputs needs --reference (the reference model's outputs), and no annotations file")
        with tempfile.TemporaryDirectory() as folder:
            written = annotations_path or Path(folder) / "annotations.json"
            baseline = _judge_outputs(outputs, reference, written, annotations_path is not None, model, base_url, store,
                                      no_store)
            data = read_judged(written, baseline)
    elif judged is None:
        raise JudgerankError("give an annotations file, or --outputs with --reference")
    elif baseline is None:
        raise JudgerankError("--baseline: name the model every other is compared with")
    else:
        data = read_judged(judged, baseline)
    gamed_rows, keys = read_gamed(gamed) if gamed else ([], None)
    table_of = read_difficulty(difficulty) if difficulty else keys
    rates = length_controlled_win_rates(data.rows, baseline, table_of, gamed_rows)
    if not tables:
        emit([w.as_dict() for w in rates])
    else:
        t = table(f"win rate against {baseline}: {len(rates)} models, {len(data.rows)} judged instructions",
                  ("rank", "model", "n", "win rate", "LC win rate", "length slope"), left=("model",), wide="model",
                  spare=62, caption="LC: length-controlled (the judge's preference had the outputs been equally long); "
                  "length slope < 0: longer than the baseline's wins more")
        for rank, w in enumerate(rates, 1):
            t.add_row(str(rank), w.model, str(w.n), f"{w.win_rate:.2f} ± {w.standard_error:.2f}",
                      f"{w.lc_win_rate:.2f} ± {w.lc_standard_error:.2f}", f"{w.length_coefficient:+.3f}")
        out.print(t)
    if data.without_baseline:
        err.print(f"note: {data.without_baseline} records without {baseline} on one side were left out", markup=False)
    if data.undecided:
        err.print(f"note: {data.undecided} records without a preference were left out", markup=False)
    if table_of is None:
        err.print("note: instruction difficulty estimated from these judgments (give --difficulty or --gamed for "
                  "AlpacaEval's)", markup=False)
    if out_path:
        write_rows(out_path, [w.as_dict() for w in rates])
        err.print(f"wrote {out_path}")


def _judge_outputs(outputs: list[Path], reference: Path, written: Path, keep: bool, model: str | None,
                   base_url: str | None, store: str | None, no_store: bool) -> str:
    """Judge each model's outputs against the reference's, write the annotations, and return the
    reference's generator (the baseline)."""
    from judgerank.cli.tasks import ACTIVITY, print_costs, stopped
    from judgerank.judge import Judge
    from judgerank.judge.outputs import judged_annotations, pair_with_reference, read_outputs

    ref = read_outputs(reference)
    tasks = [t for path in outputs for t in pair_with_reference(read_outputs(path), ref, str(path))]
    judge = Judge("allpairs", model, runtime=make_runtime(store, no_store, base_url), ratings=False)
    STOP_MESSAGE.append(lambda: stopped(judge.runtime))
    with ACTIVITY.showing("judging outputs", len(tasks)) as activity:
        rows, done = judged_annotations(judge, tasks, on_judged=lambda j: activity.advance("judging outputs"))
    write_rows(written, [], document=rows)
    print_costs(done.costs, len(rows), int(not done.complete), unit=("pair", "pairs"))
    if keep:
        err.print(f"wrote {written}")
    return ref[0].generator
