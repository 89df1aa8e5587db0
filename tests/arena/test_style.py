"""Style-controlled Bradley-Terry, sandwich intervals and anchors against arena-rank and known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from judgerank.aggregate.battles import Battles
from judgerank.arena import Anchor, Bootstrap, BradleyTerry, Sandwich, leaderboard
from judgerank.arena.files import read_battles
from judgerank.arena.style import style_counts
from judgerank.core.errors import JudgerankError

ALPHA = 400.0 / np.log(10.0)


@pytest.fixture(scope="module")
def featured_votes(tmp_path_factory, data):
    """The 135k arena votes (self-battles left out) with two seeded covariates, one of which
    leans with the outcome, written as a CSV both libraries read."""
    path = data / "chatbot-arena" / "arena_human_preference_140k_battles.csv.gz"
    df = pd.read_csv(path)
    df = df[df.model_a != df.model_b].reset_index(drop=True)
    rng = np.random.default_rng(7)
    won = df.winner.map({"model_a": 1.0, "model_b": 0.0}).fillna(0.5).to_numpy()
    df["lean"] = rng.normal(size=len(df)) + 0.6 * (won - 0.5)
    df["noise"] = 3.0 * rng.normal(size=len(df)) + 1.0
    out = tmp_path_factory.mktemp("featured") / "votes.csv"
    df.to_csv(out, index=False)
    return out, df


def _arena_rank_contextual(df: pd.DataFrame, reg: float, reweighted: bool, ci: str = "sandwich") -> dict:
    from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
    from arena_rank.utils.data_utils import ContextualPairDataset

    dataset = ContextualPairDataset.from_pandas(df, ["lean", "noise"], reweighted=reweighted)
    model = ContextualBradleyTerry(len(dataset.competitors), 2, reg=reg, ftol=0.0, gtol=1e-14, max_iter=100_000)
    return model.compute_ratings_and_cis(dataset, ci_method=ci)


@pytest.mark.slow
@pytest.mark.parametrize(("reg", "reweight"), [(1.0, True), (1e-3, False)])
def test_style_control_matches_arena_rank_contextual_bradley_terry(featured_votes, reg, reweight):
    """Every rating, interval bound and coefficient within 0.01 of arena-rank's
    ContextualBradleyTerry run to convergence, with its default (1.0, reweighted) and ours."""
    pytest.importorskip("arena_rank")
    path, df = featured_votes
    ref = _arena_rank_contextual(df, reg, reweight)
    data = read_battles(path, features=("lean", "noise"))
    board = leaderboard(data.battles, BradleyTerry(covariates=data.rows_with_covariates, reg=reg, reweight=reweight),
                        Sandwich())
    expected = {p: (r, lo, hi) for p, r, lo, hi in zip(
        ref["competitors"], *(np.asarray(ref[k]) for k in ("ratings", "rating_lower", "rating_upper")))}
    assert len(board.rows) == len(expected)
    for row in board.rows:
        r, lo, hi = expected[row.player]
        assert abs(row.rating - r) < 0.01 and abs(row.lower - lo) < 0.01 and abs(row.upper - hi) < 0.01, row.player
    np.testing.assert_allclose([c.value for c in board.coefficients], np.asarray(ref["coeffs"]), atol=0.01)
    assert [c.name for c in board.coefficients] == ["lean", "noise"]
    assert board.coefficients[0].value > 0.05  # the covariate that leans with the outcome is found


@pytest.mark.slow
def test_sandwich_intervals_match_arena_rank_bradley_terry(featured_votes):
    pytest.importorskip("arena_rank")
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    path, df = featured_votes
    dataset = PairDataset.from_pandas(df)
    ref = BradleyTerry(len(dataset.competitors), ftol=0.0, gtol=1e-14, max_iter=100_000).compute_ratings_and_cis(dataset)
    board = leaderboard(read_battles(path).battles, interval=Sandwich())
    expected = dict(zip(ref["competitors"], zip(*(np.asarray(ref[k]) for k in ("ratings", "rating_lower", "rating_upper")))))
    for row in board.rows:
        r, lo, hi = expected[row.player]
        assert abs(row.rating - r) < 0.01 and abs(row.lower - lo) < 0.01 and abs(row.upper - hi) < 0.01, row.player


def _styled_battles(path, n=600, seed=1):
    """Four players whose true strength order is alpha > beta > gamma > delta, and whose
    verbosity runs the other way; the simulated voters favour the longer answer."""
    rng = np.random.default_rng(seed)
    strength = {"alpha": 1.0, "beta": 0.5, "gamma": 0.0, "delta": -0.5}
    verbosity = {"alpha": 0, "beta": 1, "gamma": 2, "delta": 3}
    with open(path, "w") as fh:
        for _ in range(n):
            a, b = (str(p) for p in rng.choice(list(strength), 2, replace=False))
            texts = {p: "word " * (20 + 40 * verbosity[p] + int(rng.integers(0, 150))) for p in (a, b)}
            la, lb = (len(texts[p].split()) for p in (a, b))
            logit = strength[a] - strength[b] + 2.0 * (la - lb) / (la + lb + 1)
            winner = "model_a" if rng.random() < 1 / (1 + np.exp(-logit)) else "model_b"
            fh.write(json.dumps({"model_a": a, "model_b": b, "winner": winner,
                                 "response_a": texts[a], "response_b": texts[b]}) + "\n")
    return path


def test_style_control_recovers_the_order_that_length_hides(tmp_path):
    path = _styled_battles(tmp_path / "b.jsonl")
    plain = leaderboard(read_battles(path).battles)
    assert [r.player for r in plain.rows][0] != "alpha"  # length wins the raw leaderboard
    data = read_battles(path, style=True)
    assert data.rows_with_covariates.names == ("style_length",)  # no markdown anywhere: left out, with a note
    assert "headers, lists, bold left out" in data.notes[0]
    styled = leaderboard(data.battles, BradleyTerry(covariates=data.rows_with_covariates), Bootstrap(100), seed=3)
    assert [r.player for r in styled.rows] == ["alpha", "beta", "gamma", "delta"]
    length = styled.coefficients[0]
    assert length.name == "style_length" and length.lower > 0  # the bootstrap interval excludes zero
    sandwich = leaderboard(data.battles, BradleyTerry(covariates=data.rows_with_covariates), Sandwich())
    for boot, sw in zip(styled.rows, sandwich.rows):  # two estimates of one sampling spread
        width_boot, width_sw = boot.upper - boot.lower, sw.upper - sw.lower
        assert 0.7 < width_boot / width_sw < 1.4, boot.player


def test_anchor_pins_a_player_and_keeps_the_differences(tmp_path):
    path = _styled_battles(tmp_path / "b.jsonl", n=300)
    battles = read_battles(path).battles
    free = {r.player: r for r in leaderboard(battles, interval=Sandwich()).rows}
    pinned = leaderboard(battles, interval=Sandwich(), anchor=Anchor("gamma", 1200.0))
    rows = {r.player: r for r in pinned.rows}
    assert rows["gamma"].rating == pytest.approx(1200.0) and rows["gamma"].lower == pytest.approx(1200.0)
    assert rows["gamma"].vs_anchor == pytest.approx(0.5)
    for p in free:
        assert rows[p].rating - 1200.0 == pytest.approx(free[p].rating - free["gamma"].rating)
        gap = (rows[p].rating - 1200.0) / ALPHA
        assert rows[p].vs_anchor == pytest.approx(1 / (1 + np.exp(-gap)))
    boot = leaderboard(battles, interval=Bootstrap(50), anchor="gamma")
    gamma = next(r for r in boot.rows if r.player == "gamma")
    assert gamma.rating == gamma.lower == gamma.upper == pytest.approx(1000.0)


def test_style_counts_by_hand():
    text = "# Title\n\nSome **bold** and __more__ words.\n- one\n* two\n1. three\n```\n# not a header\n- nor a list\n```\n"
    tokens, headers, lists, bold = style_counts(text)
    assert (headers, lists, bold) == (1, 3, 2)
    assert tokens == 33  # each mark of ** and ``` is a token; __more__ is one word, as \w+ reads it


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([{"model_a": "x", "model_b": "y", "winner": "model_a", "f": "nan"},
          {"model_a": "y", "model_b": "x", "winner": "model_a", "f": 1}], {"features": ("f",)},
         "feature 'f' is not a finite number in battle 1"),
        ([{"model_a": "x", "model_b": "y", "winner": "model_a", "f": 2},
          {"model_a": "y", "model_b": "x", "winner": "model_a", "f": 2}], {"features": ("f",)},
         "take one value in every battle"),
        ([{"model_a": "x", "model_b": "y", "winner": "model_a"}], {"features": ("f",)}, ":1: missing feature 'f'"),
        ([{"model_a": "x", "model_b": "y", "winner": "model_a", "f": "big"}], {"features": ("f",)}, "not a number"),
        ([{"model_a": "x", "model_b": "y", "winner": "model_a"}], {"style": True}, "--style needs the two responses"),
    ],
)
def test_bad_covariates_are_one_line_errors(tmp_path, rows, kwargs, message):
    path = tmp_path / "b.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(JudgerankError, match=message):
        read_battles(path, **kwargs)


def test_arena_refuses_what_it_cannot_do(tmp_path):
    path = _styled_battles(tmp_path / "b.jsonl", n=50)
    data = read_battles(path, style=True)
    with pytest.raises(JudgerankError, match="anchor 'omega' is not a player"):
        leaderboard(data.battles, anchor="omega")
    with pytest.raises(JudgerankError, match="other players than the battles"):
        leaderboard(Battles.from_outcomes([("alpha", "beta", 1.0), ("beta", "alpha", 1.0)]),
                    BradleyTerry(covariates=data.rows_with_covariates))


@pytest.mark.slow
def test_arena_cli_style_sandwich_anchor(tmp_path):
    import subprocess
    import sys

    path = _styled_battles(tmp_path / "b.jsonl", n=300)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "judgerank", "arena", str(path), "--format", "table", *args],
                              capture_output=True, text=True, timeout=300)

    result = cli("--style", "--sandwich", "--anchor", "delta=900", "--out", str(tmp_path / "lb.json"))
    assert result.returncode == 0, result.stderr
    assert "style_length" in result.stdout and "vs delta" in result.stdout
    board = json.loads((tmp_path / "lb.json").read_text())
    assert board["coefficients"][0]["name"] == "style_length" and board["settings"]["anchor"] == "delta"
    assert next(r for r in board["leaderboard"] if r["player"] == "delta")["rating"] == pytest.approx(900.0)
    for args, message in (
        (("--anchor", "delta=high"), "--anchor 'delta=high': the rating after '=' must be a number"),
        (("--anchor", "omega"), "anchor 'omega' is not a player in these battles"),
        (("--features", "len"), ":1: missing feature 'len'"),
        (("--features", ","), "--features needs column names"),
        (("--style", "--method", "elo"), "style control (covariates) needs the bradley-terry method"),
    ):
        result = cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def test_contextual_bootstrap_resamples_are_fitted_to_their_optimum(tmp_path):
    """Each resample's batched Newton steps land where a fit of its own does."""
    from judgerank.aggregate.contextual import BOOTSTRAP_PRIOR, bootstrap_contextual, fit_contextual

    rows = read_battles(_styled_battles(tmp_path / "b.jsonl", n=400), style=True).rows_with_covariates
    fit = fit_contextual(rows, reg=1e-3)
    thetas, betas = bootstrap_contextual(rows, fit, 6, seed=3, reg=1e-3, workers=1)
    (chunk_seed,) = np.random.SeedSequence(3).spawn(1)
    counts = np.random.default_rng(chunk_seed).poisson(rows.count, size=(6, len(rows.count))).astype(float)
    for i in range(6):
        alone = fit_contextual(rows.resampled(counts[i]), reg=1e-3, prior=BOOTSTRAP_PRIOR)
        np.testing.assert_allclose(thetas[i], alone.theta, atol=1e-6)
        np.testing.assert_allclose(betas[i], alone.beta, atol=1e-6)
    assert np.ptp(thetas[:, 0]) > 0.01  # the resamples differ
