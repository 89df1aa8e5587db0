"""Distilling an LLM teacher into a student, on queries the student never saw.

Steps, each resumable (a stopped step repeats no judgment: they are all in the store):

    python bench/distil.py teach    # embedding runs, the teacher over each query's embedding top 20,
                                    # and (DL19, first teacher) over queries it writes for training passages
    python bench/distil.py train    # students from the training halves' judgments (and the growth curve)
    python bench/distil.py report   # teacher, students, cascades, embedding, BM25 on both halves
    python bench/distil.py speed    # passages per second of teacher and students

Sets: TREC DL19 (43 queries over BM25's top 100; the teacher judges each query's embedding top
20) and SciFact (its first 60 test queries over rank_bm25's top 100 for the embedding; the first
20 of those for the teacher, over each one's embedding top 10: an abstract is long, and a
judgment of one takes ~5 s on 2 cores). Each set's queries are split in halves by query (sorted ids, alternating):
the student trains on the teacher's judgments of one half and is evaluated on the other, so no
figure comes from a query the student (or anyone tuning it) saw.

The teacher is `pointwise` (P(relevant) from the yes/no log-probabilities) with
Qwen2.5-Coder-1.5B (and 0.5B as a second row) in process, over the embedding's top of every
query; its judgments are kept in bench/out/distil-store.sqlite. `judgerank distil` then reads
the training half's judgments back from that store (no new call) and trains all-MiniLM-L6-v2,
the embedded embedding model, as a bi-encoder (the default student) and as a cross-encoder.

More lessons without touching the test half (DL19, first teacher): the teacher writes a query
for each of GENERATED passages sampled from the training queries' BM25 pools (no test query's
candidate is in them) and judges each written query's 20 nearest passages of that pool; the
student "+ written queries" learns from those and the training half together. Its teach step
asks the teacher; its train step (--max-calls 0) learns from whatever the store holds, so a
teach step stopped early trains on the judgments it paid for (distil.json counts them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, DL19, print_table, require

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out" / "distil"
STORE = BENCH / "out" / "distil-store.sqlite"
TEACHERS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
DEPTH = {"dl19": 20, "scifact": 10}  # the teacher's (and the student's) depth over the embedding's order
GENERATED = 150  # DL19: passages of the training pool the first teacher writes a query for
KINDS = {"cross-encoder": "", "bi-encoder": "-bi"}  # each student kind and its folder's suffix


def sets() -> dict[str, dict]:
    from assess_dl19 import corpus  # the DL19 passages, written once from the shared JSON

    scifact = DATA / "scifact"
    return {
        "dl19": {"run": DL19 / "bm25_top100_dl19.run", "topics": DL19 / "topics.dl19-passage.txt",
                 "corpus": corpus(), "qrels": DL19 / "qrels.dl19-passage.txt", "limit": None, "teacher_limit": None},
        "scifact": {"run": scifact / "bm25_rank_bm25_top100.trec",
                    "topics": scifact / "anserini_topics.beir-v1.0.0-scifact.test.tsv",
                    "corpus": scifact / "corpus.jsonl", "qrels": scifact / "anserini_qrels.beir-v1.0.0-scifact.test.txt",
                    "limit": 60, "teacher_limit": 20},
    }


def rerank(data: dict, run: Path, out: Path, *arguments: str) -> float:
    """One `judgerank rerank` over a set (resumable through its .partial and the store): seconds."""
    if out.exists():
        return 0.0
    command = [sys.executable, "-m", "judgerank", "rerank", "--run", str(run), "--topics", str(data["topics"]),
               "--corpus", str(data["corpus"]), "--store", str(STORE), "--threads", "2", "--out", str(out),
               *arguments]
    print(" ".join(command[2:]), flush=True)
    started = time.time()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    took = time.time() - started
    print(f"{out.name}: {took:.0f} s", flush=True)
    return took


def queries_of(run: Path) -> list[str]:
    return sorted({line.split()[0] for line in run.read_text().splitlines()})


def halves(run: Path) -> tuple[list[str], list[str]]:
    ids = queries_of(run)
    return ids[0::2], ids[1::2]


def teach(teachers: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in sets().items():
        require(data["run"])
        embedding = OUT / f"{name}-embedding.trec"
        limit = ["--limit", str(data["limit"])] if data["limit"] else []
        rerank(data, data["run"], embedding, "--method", "embedding", *limit)
    for teacher in teachers:
        for name, data in sets().items():
            out = OUT / f"{name}-teacher-{teacher}.trec"
            limit = ["--limit", str(data["teacher_limit"])] if data["teacher_limit"] else []
            took = rerank(data, OUT / f"{name}-embedding.trec", out, "--method", "pointwise", "--model", teacher,
                          "--depth", str(DEPTH[name]), *limit)
            if took:
                timing = OUT / "teacher-seconds.json"
                seconds = json.loads(timing.read_text()) if timing.exists() else {}
                seconds[f"{name}-{teacher}"] = took
                timing.write_text(json.dumps(seconds, indent=1))


def subset(run: Path, queries: list[str], out: Path) -> Path:
    """The lines of a TREC run for some queries only."""
    keep = set(queries)
    out.write_text("".join(line + "\n" for line in run.read_text().splitlines() if line.split()[0] in keep))
    return out


def student_folder(name: str, teacher: str, kind: str = "cross-encoder") -> Path:
    return OUT / "students" / f"{name}-{teacher}{KINDS[kind]}"


def int8_copy(folder: Path) -> Path:
    """A bi-encoder student run with int8 weights: a copy of its folder marked as `judgerank
    distil --int8` marks one (which switches a folder in place; the copy keeps both side by side)."""
    from judgerank.backends.int8 import mark_int8

    copy = folder.with_name(folder.name + "-int8")
    if (folder / "distil.json").exists() and not (copy / "distil.json").exists():
        shutil.copytree(folder, copy, dirs_exist_ok=True)
        mark_int8(copy, True)
    return copy


def written_folder(teacher: str) -> Path:
    """The DL19 bi-encoder student of the training half and the queries the teacher wrote."""
    return OUT / "students" / f"dl19-{teacher}-bi-written"


def training_pool() -> Path:
    """The passages of DL19's training-half queries (BM25's top 100 of each), none of which is a
    test-half query's candidate: the passages the teacher writes queries for."""
    data = sets()["dl19"]
    first, second = halves(OUT / "dl19-embedding.trec")
    named: dict[str, set[str]] = {"train": set(), "test": set()}
    for line in Path(data["run"]).read_text().splitlines():
        query, _, doc = line.split()[:3]
        named["train" if query in first else "test"].add(doc)
    keep = named["train"] - named["test"]
    pool = OUT / "dl19-training-pool.tsv"
    pool.write_text("".join(line + "\n" for line in Path(data["corpus"]).read_text().splitlines()
                            if line.split("\t", 1)[0] in keep))
    return pool


def distil_written(teacher: str, asking: bool) -> None:
    """The student of DL19's training half plus GENERATED written queries: asking the teacher
    (the teach step) or from the store alone (the train step)."""
    folder = written_folder(teacher)
    if (folder / "distil.json").exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    data = sets()["dl19"]
    first, _ = halves(OUT / "dl19-embedding.trec")
    run = subset(OUT / "dl19-embedding.trec", first, OUT / f"dl19-train-{len(first)}.trec")
    command = [sys.executable, "-m", "judgerank", "distil", "--run", str(run), "--topics", str(data["topics"]),
               "--corpus", str(training_pool()), "--generate-queries", str(GENERATED), "--method", "pointwise",
               "--model", teacher, "--depth", str(DEPTH["dl19"]), "--store", str(STORE), "--threads", "2",
               "--student", "bi-encoder", "--out", str(folder), *([] if asking else ["--max-calls", "0"])]
    print(" ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)


def train(teachers: list[str], shares: list[float]) -> None:
    """`judgerank distil` on each set's training half, reading the teacher's judgments from the
    store (--max-calls 0), each student kind with its defaults; DL19's first teacher also on shares
    of its training queries, and with the queries it wrote."""
    for teacher in teachers:
        for name, data in sets().items():
            taught = OUT / f"{name}-teacher-{teacher}.trec"
            if not taught.exists():
                print(f"{taught.name} missing: run the teach step first", flush=True)
                continue
            first, _ = halves(taught)
            for kind in KINDS:
                for share in shares if (name, teacher) == ("dl19", teachers[0]) else [1.0]:
                    chosen = first[: max(2, round(share * len(first)))]
                    folder = Path(f"{student_folder(name, teacher, kind)}{'' if share == 1.0 else f'-{int(share * 100)}'}")
                    if (folder / "distil.json").exists():
                        continue
                    folder.parent.mkdir(parents=True, exist_ok=True)
                    run = subset(OUT / f"{name}-embedding.trec", chosen, OUT / f"{name}-train-{len(chosen)}.trec")
                    command = [sys.executable, "-m", "judgerank", "distil", "--run", str(run), "--topics",
                               str(data["topics"]), "--corpus", str(data["corpus"]), "--method", "pointwise", "--model",
                               teacher, "--depth", str(DEPTH[name]), "--max-calls", "0", "--store", str(STORE),
                               "--threads", "2", "--student", kind, "--out", str(folder)]
                    print(" ".join(command[2:]), flush=True)
                    subprocess.run(command, check=True)
            int8_copy(student_folder(name, teacher, "bi-encoder"))


def evaluate_runs(teachers: list[str]) -> None:
    """Every system's run over each set's test and training halves, and nDCG@10 with 95% intervals."""

    from judgerank.io.trec import read_qrels

    rows = []
    for name, data in sets().items():
        qrels = read_qrels(data["qrels"])
        for teacher in teachers:
            taught = OUT / f"{name}-teacher-{teacher}.trec"
            made = students_of(name, teacher, teachers[0])
            if not made:
                continue
            first, second = halves(taught)
            # the test half says what the student learnt; the training half (queries it was trained
            # on) is shown beside it, as every figure here is to be read with both halves
            for half, chosen in (("test", second), ("training", first)):
                rows += _half_rows(name, data, teacher, made, taught, half, chosen, qrels)
            for label, (folder, _) in made.items():
                provenance = json.loads((folder / "distil.json").read_text())
                judged = provenance["judgments"]
                print(f"{name} {teacher}, {label}: {len(provenance['train_queries'])} training queries, "
                      f"{provenance['passages']} passages ({judged['judged']} judged, {judged['new_calls']} new calls), "
                      f"{provenance['training_seconds']:.0f} s, epoch {provenance['best_epoch']} of "
                      f"{len(provenance['epochs'])} kept", flush=True)
    print_table(rows, ["set", "teacher", "half", "system", "queries", "nDCG@10", "- embedding [95%]",
                       "- teacher [95%]"])


def students_of(name: str, teacher: str, first_teacher: str) -> dict[str, tuple[Path, str]]:
    """The trained students of a set and teacher: label -> (folder, the rerank method it ranks with)."""
    made = {f"{kind} student": (student_folder(name, teacher, kind), kind) for kind in KINDS}
    if (name, teacher) == ("dl19", first_teacher):
        made["bi-encoder student + written queries"] = (written_folder(teacher), "bi-encoder")
    made |= {f"{label}, int8": (int8_copy(folder), method) for label, (folder, method) in made.items()
             if method == "bi-encoder"}
    return {label: chosen for label, chosen in made.items() if (chosen[0] / "distil.json").exists()}


def _half_rows(name: str, data: dict, teacher: str, made: dict[str, tuple[Path, str]], taught: Path, half: str,
               chosen: list[str], qrels: dict) -> list[dict]:
    """Every system's nDCG@10 over one half's queries, with paired 95% intervals against the
    embedding and the teacher."""
    import numpy as np

    from judgerank.io.trec import read_run_with_tag
    from judgerank.rerank.evaluate import evaluate

    runs = {"BM25": subset(data["run"], chosen, OUT / f"{name}-{half}-bm25.trec"),
            "embedding": subset(OUT / f"{name}-embedding.trec", chosen, OUT / f"{name}-{half}-embedding.trec"),
            f"teacher {teacher} (embedding top k)": subset(taught, chosen, OUT / f"{name}-{half}-{teacher}.trec")}
    for label, (folder, method) in made.items():
        tried = {f"{label} (embedding top k)": folder}
        if half == "test" and "written" not in label:
            tried |= {f"{label} from {share}% of the training queries": Path(f"{folder}-{share}") for share in (25, 50)}
        for system, model in tried.items():
            if (model / "distil.json").exists():
                out = OUT / f"{name}-{half}-student-{model.name.removeprefix(name + '-')}.trec"
                rerank(data, runs["embedding"], out, "--method", method, "--model", str(model), "--depth",
                       str(DEPTH[name]))
                runs[system] = out
        cascade = OUT / f"{name}-{half}-cascade-{folder.name.removeprefix(name + '-')}.trec"
        rerank(data, runs["BM25"], cascade, "--method", "cascade", "--then", method, "--model", str(folder))
        runs[f"cascade: embedding, then the {label}"] = cascade
    scores = {label: evaluate(read_run_with_tag(path)[0], qrels, ["ndcg@10"]).per_query for label, path in runs.items()}
    queries = sorted(scores["BM25"])
    baseline = {"embedding": np.array([scores["embedding"][q]["ndcg@10"] for q in queries]),
                "teacher": np.array([scores[f"teacher {teacher} (embedding top k)"][q]["ndcg@10"] for q in queries])}
    resamples = np.random.default_rng(0).integers(0, len(queries), (1000, len(queries)))
    rows = []
    for label, per in scores.items():
        values = np.array([per[q]["ndcg@10"] for q in queries])
        row = {"set": name, "teacher": teacher, "half": half, "system": label, "queries": len(queries),
               "nDCG@10": f"{values.mean():.4f}"}
        for against, base in baseline.items():
            diff = (values - base)[resamples].mean(axis=1)
            row[f"- {against} [95%]"] = (f"{(values - base).mean():+.4f} [{np.percentile(diff, 2.5):+.3f}, "
                                         f"{np.percentile(diff, 97.5):+.3f}]")
        rows.append(row)
    return rows


def speed(teachers: list[str]) -> None:
    """Passages per second of each teacher and its students on DL19 test passages, in process,
    models loaded first, nothing from the store. A teacher takes two queries' top 20; a student
    every test query's top 20 once (420 passages, each new to it: a bi-encoder keeps the vectors
    of texts it has seen, so a repeat would cost it nothing). Last, the bi-encoder again with the
    passages' vectors in the store (the report step put them there) and queries it has not seen, as
    for a corpus embedded once:
    each query then costs one query's embedding and the cosines."""
    from judgerank import Reranker, Runtime
    from judgerank.io.trec import read_run_with_tag

    data = sets()["dl19"]
    run = read_run_with_tag(OUT / "dl19-embedding.trec")[0]
    topics = dict(line.split("\t", 1) for line in Path(data["topics"]).read_text().splitlines())
    passages = dict(line.rstrip("\n").split("\t", 1) for line in Path(data["corpus"]).read_text().splitlines())
    test = sorted(run)[1::2]
    work = [(topics[q].strip(), [passages[d] for d in sorted(run[q], key=lambda d: -run[q][d])[:DEPTH["dl19"]]])
            for q in test]
    rows = []
    copy = Path(tempfile.mkdtemp()) / "store.sqlite"
    for teacher in teachers:
        tried: list[tuple[str, str, str, list, str | None]] = [("teacher", "pointwise", teacher, work[:2], None)]
        tried += [(f"{kind} student", kind, str(student_folder("dl19", teacher, kind)), work, None) for kind in KINDS
                  if student_folder("dl19", teacher, kind).exists()]
        tried += [(f"{label}, int8", "bi-encoder", str(int8_copy(folder)), work, None)
                  for label, folder in (("bi-encoder student", student_folder("dl19", teacher, "bi-encoder")),
                                        ("bi-encoder student + written queries", written_folder(teacher)))
                  if folder.exists()]
        if student_folder("dl19", teacher, "bi-encoder").exists():  # the report step stored its passages' vectors
            # queries the store has never seen (each test query with this run's mark added: the store
            # keeps every (query, passage) cosine it served, so a query asked before costs nothing at
            # all) over stored passages, in a copy of the store, which the run leaves as it was
            mark = f" ({time.strftime('%Y%m%d%H%M%S')})"
            asked = [(query + mark, texts) for query, texts in work]
            shutil.copyfile(STORE, copy)
            tried.append(("bi-encoder student, new queries, passage vectors in the store", "bi-encoder",
                          str(student_folder("dl19", teacher, "bi-encoder")), asked, str(copy)))
        for label, method, model, chosen, store in tried:
            with Runtime(store=store, threads=2) as runtime, Reranker(method, model, runtime=runtime) as ranker:
                ranker.warm_up()
                started, n = time.perf_counter(), 0
                for query, texts in chosen:
                    ranker.rank(query, texts)
                    n += len(texts)
                seconds = time.perf_counter() - started
            rows.append({"model": f"{label} ({teacher})", "passages": n, "seconds": f"{seconds:.1f}",
                         "passages/s": f"{n / seconds:.2f}"})
    shutil.rmtree(copy.parent)
    print_table(rows, ["model", "passages", "seconds", "passages/s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("teach", "train", "report", "speed"))
    parser.add_argument("--teachers", default=",".join(TEACHERS), help="teacher models, comma-separated")
    parser.add_argument("--shares", default="0.25,0.5,1.0", help="DL19: shares of the training queries (the curve)")
    args = parser.parse_args()
    teachers = args.teachers.split(",")
    if args.step == "teach":
        teach(teachers)
        distil_written(teachers[0], asking=True)
    elif args.step == "train":
        train(teachers, [float(x) for x in args.shares.split(",")])
        distil_written(teachers[0], asking=False)
        int8_copy(written_folder(teachers[0]))
    elif args.step == "report":
        evaluate_runs(teachers)
    else:
        speed(teachers)


if __name__ == "__main__":
    main()
