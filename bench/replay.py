"""Kept results replay from their judgment store: the same rankings, verdicts, leaderboards and win
rates, with 0 LLM calls.

`record` runs a matrix of jobs through the command line (every rerank method, every judge method,
a jury, a report card, every arena rater and interval, style control, win rates) on the embedded
SmolLM2, the embedding model and the simulated judge, keeps every judgment in
bench/kept/replay/store.sqlite and every output in bench/kept/replay/expected/. `check` runs the
same commands on a copy of that store with a budget of 0 new calls and compares: ids, orders and
verdicts exactly, numbers to 1e-9 (relative), costs and seconds left out. It fails on any job that
differs, is incomplete, or made a call. A refactor that says it changes no result proves it here.

    python bench/replay.py check              # the kept record against this checkout (a few minutes)
    python bench/replay.py check --only sim   # the jobs whose names contain 'sim'
    python bench/replay.py record             # make a new record (only when results are meant to change)

Inputs come from bench/kept/replay/inputs/ (synthetic, committed) and from ../shared/data (three
DL19 queries, twelve LLMBar pairs, AlpacaEval outputs, the Chatbot Arena votes), written to a
temporary folder each time; jobs that need ../shared/data are skipped when it is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
KEPT = BENCH / "kept" / "replay"
STORE = KEPT / "store.sqlite"
EXPECTED = KEPT / "expected"
INPUTS = KEPT / "inputs"
DATA = Path(os.environ.get("JUDGERANK_DATA", BENCH.parent / ".." / "shared" / "data")).resolve()
VOLATILE = {"costs", "seconds", "seconds_per_pair", "calls_per_pair", "tokens_per_pair"}

RERANK_METHODS = [
    "cascade", "pointwise", "pointwise-graded", "embedding", "embedding-prf", "allpairs", "pairwise-heap",
    "pairwise-quick", "pairwise-bubble", "swiss", "active", "realm", "listwise", "listwise-psc", "first",
    "first-full", "icr", "first-psc", "setwise-heap", "jointrank", "jointrank-listwise",
]
SMALL = ["--top-k", "5", "--window", "8", "--stride", "4"]


def data_inputs(folder: Path) -> set[str]:
    """Inputs made from ../shared/data, by name; an empty set when it is absent."""
    made = set()
    dl19 = DATA / "trec-dl19" / "bm25_top100_dl19.json"
    if dl19.is_file():
        queries = json.loads(dl19.read_text())[:3]
        with (folder / "dl19.jsonl").open("w") as fh:
            for q in queries:
                hits = q["hits"][:15]
                fh.write(json.dumps({"query_id": hits[0]["qid"], "query": q["query"], "candidates": [
                    {"id": h["docid"], "text": h["content"], "score": h["score"]} for h in hits]}) + "\n")
        made.add("dl19")
    llmbar = DATA / "llmbar" / "LLMBar_Natural.json"
    if llmbar.is_file():
        (folder / "llmbar.json").write_text(json.dumps(json.loads(llmbar.read_text())[:12]))
        made.add("llmbar")
    outputs = DATA / "alpaca-eval" / "model_outputs"
    if outputs.is_dir():
        files = sorted(outputs.glob("*.json.gz"))[:4]
        per_model = [json.loads(gzip.open(f, "rt").read()) for f in files]
        with (folder / "responses.jsonl").open("w") as fh:
            for n in range(3):
                fh.write(json.dumps({"prompt_id": f"i{n}", "prompt": per_model[0][n]["instruction"], "responses": [
                    {"id": rows[n]["generator"], "text": rows[n]["output"]} for rows in per_model]}) + "\n")
        made.add("responses")
    if (DATA / "chatbot-arena" / "arena_human_preference_140k_battles.csv.gz").is_file():
        made.add("arena")
    return made


def jobs(inp: Path, store: str, check: bool) -> list[tuple[str, str | None, list[str]]]:
    """(name, input it needs or None, judgerank arguments without --out)."""
    zero = ["--max-calls", "0"] if check else []
    sim = f"simulated:{INPUTS / 'sim-grades.json'}"
    out: list[tuple[str, str | None, list[str]]] = []
    for m in RERANK_METHODS:
        out.append((f"rerank-sim-{m}", None, ["rerank", "--input", str(INPUTS / "sim.jsonl"), "--method", m,
                                              "--model", sim, *SMALL, "--store", store, *zero]))
        out.append((f"rerank-dl19-{m}", "dl19", ["rerank", "--input", str(inp / "dl19.jsonl"), "--method", m,
                                                 *SMALL, "--store", store, *zero]))
    out += [
        ("rerank-dl19-cascade-llm", "dl19", ["rerank", "--input", str(inp / "dl19.jsonl"), "--llm-weight", "1",
                                             "--cascade-depth", "8", "--store", store, *zero]),
        ("rerank-dl19-first-insert", "dl19", ["rerank", "--input", str(inp / "dl19.jsonl"), "--method", "first",
                                              "--insert-scores", *SMALL, "--store", store, *zero]),
        ("rerank-sim-heap-budget", None, ["rerank", "--input", str(INPUTS / "sim.jsonl"), "--method", "pairwise-heap",
                                          "--model", sim, "--top-k", "5", "--store", store,
                                          "--max-calls", "0" if check else "25"]),
        ("rerank-dl19-active-budget", "dl19", ["rerank", "--input", str(inp / "dl19.jsonl"), "--method", "active",
                                               "--store", store, "--max-calls", "0" if check else "12"]),
        ("rerank-flea-default", None, ["rerank", "--input", str(INPUTS / "flea-requests.jsonl"), "--store", store,
                                       *zero]),
        ("rerank-flea-guard-flag", None, ["rerank", "--input", str(INPUTS / "flea-requests.jsonl"), "--method",
                                          "pointwise", "--guard", "flag", "--store", store, *zero]),
    ]
    for m in ("allpairs", "swiss", "pairwise-heap", "pairwise-quick", "pairwise-bubble"):
        out.append((f"judge-responses-{m}", "responses", ["judge", str(inp / "responses.jsonl"), "--method", m,
                                                          "--top-k", "3", "--store", store, *zero]))
    out += [
        ("judge-responses-pointwise", "responses", ["judge", str(inp / "responses.jsonl"), "--mode", "pointwise",
                                                    "--store", store, *zero]),
        ("judge-responses-five", "responses", ["judge", str(inp / "responses.jsonl"), "--five-levels",
                                               "--store", store, *zero]),
        ("judge-pairs-gold", "llmbar", ["judge", str(inp / "llmbar.json"), "--gold", "label", "--store", store, *zero]),
        ("judge-pairs-five", "llmbar", ["judge", str(inp / "llmbar.json"), "--gold", "label", "--five-levels",
                                        "--no-ratings", "--store", store, *zero]),
        ("judge-pairs-jury", "llmbar", ["judge", str(inp / "llmbar.json"), "--gold", "label", "--judges",
                                        "smollm2-135m,smollm2-135m@judge-pair-5", "--store", store, *zero]),
        ("judge-eval-jury", "llmbar", ["judge-eval", str(inp / "llmbar.json"), "--judges",
                                       "smollm2-135m,smollm2-135m@judge-pair-5", "--store", store, *zero]),
    ]
    arena = str(DATA / "chatbot-arena" / "arena_human_preference_140k_battles.csv.gz")
    for m in ("bradley-terry", "elo", "rank-centrality", "pagerank", "win-rate", "copeland"):
        extra = ["--shuffles", "5"] if m == "elo" else ["--bootstrap", "50"] if m != "copeland" else []
        out.append((f"arena-{m}", "arena", ["arena", arena, "--method", m, *extra]))
    style = str(INPUTS / "style-battles.jsonl")
    out += [
        ("arena-sandwich-anchor", "arena", ["arena", arena, "--sandwich", "--anchor", "gemini-2.5-pro=1200"]),
        ("arena-ignore-ties-raw", "arena", ["arena", arena, "--ties", "ignore", "--both-bad", "ignore", "--scale",
                                            "raw", "--prior", "1"]),
        ("arena-style-bootstrap", None, ["arena", style, "--style", "--bootstrap", "40", "--reweight"]),
        ("arena-style-sandwich", None, ["arena", style, "--style", "--features", "x", "--sandwich"]),
        ("winrate", None, ["winrate", str(INPUTS / "annotations.json"), "--baseline", "base"]),
    ]
    return out


def run(cli: list[str], args: list[str], out: Path) -> tuple[int, str]:
    """The command with --out; its exit status and stderr."""
    done = subprocess.run([*cli, *args, "--out", str(out)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"})
    return done.returncode, done.stderr


def load(path: Path) -> object:
    text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def differ(a: object, b: object, where: str = "") -> str | None:
    """Where a and b first differ (numbers to 1e-9 relative), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{where}: keys {sorted(a.keys() ^ b.keys())}"
        return next((d for k in a if (d := differ(a[k], b[k], f"{where}.{k}"))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} entries"
        return next((d for n, (x, y) in enumerate(zip(a, b)) if (d := differ(x, y, f"{where}[{n}]"))), None)
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else f"{where}: {a!r} vs {b!r}"
    return None if a == b else f"{where}: {a!r} vs {b!r}"


def calls_in(value: object) -> int:
    """LLM calls recorded anywhere in an output (costs.calls, a card's calls_per_pair)."""
    if isinstance(value, dict):
        own = value.get("calls", 0) if isinstance(value.get("calls"), int) else 0
        own += round(value.get("calls_per_pair") or 0) if "calls_per_pair" in value else 0
        return own + sum(calls_in(v) for k, v in value.items() if k != "calls")
    if isinstance(value, list):
        return sum(calls_in(v) for v in value)
    return 0


def incomplete(value: object) -> bool:
    if isinstance(value, dict):
        return value.get("complete") is False or any(incomplete(v) for v in value.values())
    if isinstance(value, list):
        return any(incomplete(v) for v in value)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("record", "check"))
    parser.add_argument("--only", default="", help="only the jobs whose names contain this")
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("judgerank")))
    args = parser.parse_args()
    check = args.mode == "check"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        have = data_inputs(folder)
        if check:
            store = folder / "store.sqlite"
            shutil.copy(STORE, store)
        else:
            EXPECTED.mkdir(parents=True, exist_ok=True)
            store = STORE
        failures, ran = [], 0
        for name, needs, argv in jobs(folder, str(store), check):
            if args.only not in name:
                continue
            if needs is not None and needs not in have:
                print(f"skip {name}: needs {needs} from {DATA}")
                continue
            kept = EXPECTED / f"{name}.json"
            out = folder / f"{name}.jsonl" if argv[0] in ("rerank", "judge") else folder / f"{name}.json"
            started = time.perf_counter()
            code, stderr = run([args.cli], argv, out)
            ran += 1
            if code != 0:
                failures.append(f"{name}: exit {code}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}")
                print(f"FAIL {name}")
                continue
            got = load(out)
            if not check:
                kept.write_text(json.dumps(got, indent=None, sort_keys=True) + "\n")
                print(f"kept {name} ({time.perf_counter() - started:.1f} s)")
                continue
            want = json.loads(kept.read_text())
            # a job that was cut by its own budget when recorded is incomplete by design
            problem = differ(strip(want), strip(got)) or (
                f"{calls_in(got)} LLM calls" if calls_in(got) else None) or (
                "incomplete" if incomplete(got) and not incomplete(want) else None)
            print(f"{'ok  ' if problem is None else 'FAIL'} {name} ({time.perf_counter() - started:.1f} s)"
                  + (f": {problem}" if problem else ""))
            if problem:
                failures.append(f"{name}: {problem}")
    print(f"{ran} jobs, {len(failures)} failed")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
