"""Bradley-Terry fit + bootstrap on the 135k Chatbot Arena votes: judgerank vs arena-rank vs choix.

    python bench/arena.py --bootstrap 1000

Same data, same run, same settings (scale 400, base 10, init 1000, ties and both_bad = 0.5).
arena-rank and choix come from PyPI (`pip install arena-rank==0.1.1 choix==0.4.1 pandas`).
arena-rank bootstraps with its own process pool; choix has no bootstrap, so its time is one fit
(decisive votes only: choix's pairwise model has no ties) times the number of resamples.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, print_table, require  # noqa: E402

from judgerank.aggregate.bootstrap import bootstrap_bradley_terry, percentile_interval  # noqa: E402
from judgerank.aggregate.bradley_terry import bradley_terry, to_scale  # noqa: E402
from judgerank.arena.files import read_battles  # noqa: E402

VOTES = DATA / "chatbot-arena" / "arena_human_preference_140k_battles.csv.gz"


def ours(battles, n_boot: int) -> tuple[dict, float, dict]:
    t0 = time.perf_counter()
    theta = bradley_terry(battles.win_matrix("half"))
    samples = bootstrap_bradley_terry(battles, theta, n_boot, seed=0)
    lo, hi = percentile_interval(to_scale(samples))
    seconds = time.perf_counter() - t0
    ratings = dict(zip(battles.players, to_scale(theta)))
    return ratings, seconds, {p: (a, b) for p, a, b in zip(battles.players, lo, hi)}


def arena_rank(df, n_boot: int, converged: bool) -> tuple[dict, float]:
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    t0 = time.perf_counter()
    dataset = PairDataset.from_pandas(df)
    kwargs = {"ftol": 0.0, "gtol": 1e-14, "max_iter": 100_000} if converged else {}
    model = BradleyTerry(len(dataset.competitors), **kwargs)
    if n_boot:
        result = model.compute_ratings_and_cis(dataset, ci_method="bootstrap", num_bootstrap=n_boot)
    else:
        result = model.compute_ratings_and_cis(dataset)
    seconds = time.perf_counter() - t0
    return dict(zip(result["competitors"], np.asarray(result["ratings"]).tolist())), seconds


def choix_fit(battles, n_boot: int) -> tuple[dict, float]:
    import choix

    keep = battles.outcome != 0.5
    data = []
    for a, b, o, c in zip(battles.a[keep], battles.b[keep], battles.outcome[keep], battles.count[keep]):
        data += [(int(a), int(b)) if o == 1.0 else (int(b), int(a))] * int(c)
    t0 = time.perf_counter()
    theta = choix.mm_pairwise(battles.n_players, data, alpha=1e-6, tol=1e-12)
    seconds = (time.perf_counter() - t0) * max(1, n_boot + 1)
    return dict(zip(battles.players, to_scale(theta - theta.mean()))), seconds


def main() -> None:
    import multiprocessing

    # arena-rank bootstraps in a process pool; forking after JAX has started threads deadlocks
    multiprocessing.set_start_method("spawn", force=True)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--skip-peer-bootstrap", action="store_true", help="time arena-rank's fit only")
    args = ap.parse_args()
    import pandas as pd

    battles = read_battles(require(VOTES)).battles
    df = pd.read_csv(VOTES)
    mine, t_mine, ci = ours(battles, args.bootstrap)
    rows = [{"tool": "judgerank", "what": f"fit + {args.bootstrap} bootstrap", "seconds": f"{t_mine:.2f}",
             "x slower than judgerank": "1.0", "max |rating diff| vs judgerank": "0"}]
    peers = [
        ("arena-rank 0.1.1 (defaults)", *arena_rank(df, 0 if args.skip_peer_bootstrap else args.bootstrap, False),
         "fit" if args.skip_peer_bootstrap else f"fit + {args.bootstrap} bootstrap"),
        ("arena-rank 0.1.1 (run to convergence)", *arena_rank(df, 0, True), "fit"),
        ("choix 0.4.1 mm_pairwise", *choix_fit(battles, args.bootstrap), f"(fit x {args.bootstrap + 1}), no ties"),
    ]
    nontie = _nontie(battles)
    for name, ratings, seconds, what in peers:
        # choix leaves ties out: it is compared with our fit on the same decisive votes
        diff = _max_diff_centred(nontie, ratings) if name.startswith("choix") else _max_diff(mine, ratings)
        rows.append({"tool": name, "what": what, "seconds": f"{seconds:.2f}",
                     "x slower than judgerank": f"{seconds / t_mine:.1f}", "max |rating diff| vs judgerank": f"{diff:.2e}"})
    print(f"{len(battles.players)} players, {int(battles.total)} battles (self-battles dropped)")
    print_table(rows, list(rows[0]))
    top = sorted(mine, key=mine.get, reverse=True)[:3]
    print("top 3 with 95% bootstrap intervals:", "; ".join(f"{p} {mine[p]:.1f} [{ci[p][0]:.1f}, {ci[p][1]:.1f}]" for p in top))


def _nontie(battles) -> dict:
    w = battles.win_matrix("ignore")
    idx = np.flatnonzero(w.sum(axis=0) + w.sum(axis=1) > 0)
    theta = bradley_terry(w[np.ix_(idx, idx)])
    return dict(zip([battles.players[i] for i in idx], to_scale(theta)))


def _max_diff(a: dict, b: dict) -> float:
    return max(abs(a[p] - b[p]) for p in a)


def _max_diff_centred(a: dict, b: dict) -> float:
    shared = [p for p in a if p in b]
    ma, mb = np.mean([a[p] for p in shared]), np.mean([b[p] for p in shared])
    return max(abs((a[p] - ma) - (b[p] - mb)) for p in shared)


if __name__ == "__main__":
    main()
