"""Battle files, the arena leaderboard, the schedulers, the CLI and the HTML report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from judgerank.aggregate.battles import Battles
from judgerank.arena import Bootstrap, BradleyTerry, Elo, PageRank, Sandwich, WinRate, leaderboard, rater
from judgerank.arena.files import read_battles
from judgerank.arena.ratings import rate_players
from judgerank.core.errors import JudgerankError
from judgerank.strategies.swiss import Swiss, swiss_outlook

CSV = """id,model_a,model_b,winner
1,alpha,beta,model_a
2,beta,gamma,model_a
3,gamma,alpha,model_b
4,alpha,gamma,tie
5,beta,alpha,model_a
6,delta,delta,model_a
7,delta,alpha,both_bad
8,alpha,beta,model_a
9,gamma,beta,model_a
"""


def test_battle_file_counts_edge_cases(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(CSV)
    data = read_battles(path)
    assert data.rows == 9 and data.self_battles == 1 and data.dropped_both_bad == 0
    assert data.battles.total == 8
    dropped = read_battles(path, both_bad="ignore")
    assert dropped.dropped_both_bad == 1 and dropped.battles.total == 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("model_a,model_b,winner\nx,y,model_c\n", r"b\.csv:2: unknown winner label 'model_c'"),
        ("model_a,model_b\nx,y\n", r"missing column\(s\) winner; found model_a, model_b$"),
        ("", r"b\.csv: the file is empty: a CSV of battles has a header row naming model_a, model_b, winner"),
        ("model_a,model_b,winner\nx,x,model_a\n", r"no battles between two different players"),
    ],
)
def test_battle_file_errors(tmp_path, content, message):
    path = tmp_path / "b.csv"
    path.write_text(content)
    with pytest.raises(JudgerankError, match=message):
        read_battles(path)


def test_jsonl_battles(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "model_b"}\n{"model_a": "x", "model_b": "y", "winner": "tie"}\n')
    battles = read_battles(path).battles
    assert battles.players == ["x", "y"] and battles.total == 2


def test_leaderboard_reports_players_without_decisive_results(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(CSV)
    board = leaderboard(read_battles(path).battles, interval=Bootstrap(200), seed=1)
    by_name = {r.player: r for r in board.rows}
    assert [r.rank for r in board.rows] == [1, 2, 3, 4]
    assert by_name["delta"].battles == 1 and by_name["delta"].win_rate is None
    assert any("no decisive result: delta" in n for n in board.notes)
    assert all(r.lower <= r.rating <= r.upper for r in board.rows)
    ignored = leaderboard(read_battles(path).battles, ties="ignore")
    assert any("prior" in n for n in ignored.notes)


def test_arena_methods_agree_on_a_clear_order():
    rows = [("a", "b", 1.0)] * 8 + [("b", "a", 1.0)] * 2 + [("b", "c", 1.0)] * 8 + [("c", "b", 1.0)] * 2
    rows += [("a", "c", 1.0)] * 9 + [("c", "a", 1.0)]
    battles = Battles.from_outcomes(rows)
    for method in ("bradley-terry", "elo", "rank-centrality", "pagerank", "win-rate", "copeland"):
        assert [r.player for r in rate_players(battles, rater(method)).rows] == ["a", "b", "c"], method
    with pytest.raises(JudgerankError, match="unknown arena method"):
        rater("trueskill")


def test_combinations_that_cannot_be_computed_and_bad_values_are_errors():
    battles = Battles.from_outcomes([("a", "b", 1.0), ("b", "a", 1.0), ("a", "b", 0.5)])
    for rating, interval, anchor, message in [
        (Elo(), Bootstrap(10), None, "not offered for elo"),
        (PageRank(), Sandwich(), None, "sandwich intervals need the bradley-terry"),
        (WinRate(), None, "a", "an anchor needs a rating on an additive scale"),
    ]:
        with pytest.raises(JudgerankError, match=message):
            rate_players(battles, rating, interval, anchor=anchor)
    # both were silently accepted before: raw log-strengths for scale="ELO", ties ignored for "halve"
    with pytest.raises(JudgerankError, match="scale must be elo or raw"):
        leaderboard(battles, scale="ELO")  # type: ignore[call-overload]
    with pytest.raises(JudgerankError, match="ties must be half or ignore"):
        leaderboard(battles, ties="halve")  # type: ignore[call-overload]
    for bad, message in [(lambda: Bootstrap(0), "at least 1"), (lambda: Elo(k=0), "above 0"),
                         (lambda: Sandwich(level=1.5), "between 0 and 1"), (lambda: Elo(shuffles=0), "at least 1"),
                         (lambda: rater("elo", prior=1.0), "elo takes none of prior")]:
        with pytest.raises(JudgerankError, match=message):
            bad()


def test_swiss_never_repeats_and_rotates_byes():
    players = [f"p{i}" for i in range(7)]
    swiss = Swiss(players)
    results, byes = [], []
    for _ in range(6):
        pairs = swiss.next_round(results)
        assert len(pairs) == 3
        seated = {p for pair in pairs for p in pair}
        byes += [p for p in players if p not in seated]
        results += [(a, b, 1.0 if players.index(a) < players.index(b) else 0.0) for a, b in pairs]
    met = [frozenset((a, b)) for a, b, _ in results]
    assert len(met) == len(set(met))
    assert len(byes) == len(set(byes)) == 6
    assert max(swiss.scores(results), key=swiss.scores(results).get) == "p0"


def test_swiss_outlook_of_one_coin_flip_game_by_hand():
    # two equal players, one round left: each expects half a point, and deciding the game moves
    # the winner's expectation up by 0.5 and the loser's down by 0.5, whichever wins: impact 1
    outlook = swiss_outlook(Swiss(["a", "b"]), [], rounds=1, simulations=4000)
    assert outlook.expected["a"] == pytest.approx(0.5, abs=0.03)
    assert outlook.expected["a"] + outlook.expected["b"] == pytest.approx(1.0)
    ((game),) = outlook.next_round
    assert (game.a, game.b, game.p_a) == ("a", "b", 0.5)
    assert game.impact == pytest.approx(1.0, abs=0.06)


def test_swiss_outlook_favours_the_stronger_and_ends_with_the_scores():
    swiss = Swiss(["a", "b", "c", "d"])
    results = [("a", "b", 1.0), ("c", "d", 1.0), ("a", "c", 1.0), ("b", "d", 1.0)]
    outlook = swiss_outlook(swiss, results, rounds=3, simulations=2000)
    assert outlook.played == 2 and outlook.scores == {"a": 2.0, "b": 1.0, "c": 1.0, "d": 0.0}
    assert outlook.expected["a"] > outlook.expected["b"] > outlook.expected["d"]
    assert sum(outlook.expected.values()) == pytest.approx(6.0)  # six games, a point each
    over = swiss_outlook(swiss, results + [(a, b, 1.0) for a, b in swiss.next_round(results)], rounds=3)
    assert over.next_round == [] and over.expected == over.scores


def test_a_swiss_cut_short_ranks_by_expected_final_score():
    from helpers import graded_request, simulated

    from judgerank import Budget, Reranker

    grades = [float(g) for g in range(8)]
    request = graded_request(grades)
    ranking = Reranker("swiss", store=None, backend=simulated(request, grades), budget=Budget(max_calls=10)).rank(
        request.query, request.items)
    assert not ranking.complete
    assert ranking.scores == sorted(ranking.scores, reverse=True)
    assert 0 < sum(ranking.scores) and max(ranking.scores) <= 5  # expected scores over log2(8) + 2 rounds


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "judgerank", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_arena_cli_writes_json_csv_and_errors_in_one_line(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(CSV)
    result = _cli("arena", path, "--bootstrap", "100", "--out", tmp_path / "lb.json")
    assert result.returncode == 0, result.stderr
    assert "alpha" in result.stdout and "self-battles" in result.stderr
    board = json.loads((tmp_path / "lb.json").read_text())
    assert [r["rank"] for r in board["leaderboard"]] == [1, 2, 3, 4]
    assert _cli("arena", path, "--out", tmp_path / "lb.csv").returncode == 0
    assert (tmp_path / "lb.csv").read_text().startswith("rank,player,rating")
    bad = tmp_path / "bad.csv"
    bad.write_text("model_a,model_b,winner\nx,y,left\n")
    result = _cli("arena", bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip() == f"judgerank: error: {bad}:2: unknown winner label 'left' (use model_a, model_b, tie or both_bad)"
    )


def test_html_report_renders_its_plots_in_chromium(tmp_path, chromium):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from judgerank.arena.report import write_report

    path = tmp_path / "b.csv"
    path.write_text(CSV)
    report = tmp_path / "report.html"
    write_report(leaderboard(read_battles(path).battles, interval=Bootstrap(100)), report, source="b.csv")
    dom = subprocess.run([*chromium, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120).stdout
    for figure in ("ratings", "win-probability", "battle-counts"):
        assert f'<figure id="{figure}"><svg' in dom
    assert dom.count("<tr>") == 5  # header + 4 players
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*chromium, "--window-size=1000,2600", f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120
    )
    image = Image.open(shot).convert("L")
    inked = sum(1 for px in image.tobytes() if px < 200)
    assert inked > 20_000  # table, markers, two heat maps: far more than an empty page


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_a_seed_that_is_not_a_whole_number_0_or_more_is_one_error(seed):
    for rater_, interval in ((Elo(), None), (BradleyTerry(), Bootstrap(10))):
        with pytest.raises(JudgerankError, match=r"seed must be a whole number 0 or more"):
            rate_players([("a", "b", 1), ("b", "a", 0)], rater_, interval, seed=seed)
