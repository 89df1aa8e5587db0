"""What each framework adapter adds over calling judgerank directly: milliseconds per query on the
43 DL19 queries (BM25 top-20), every judgment served from a warm judgment store.

    python bench/adapters_overhead.py                       # pointwise with SmolLM2, bench/out/adapters.sqlite
    python bench/adapters_overhead.py --method cascade --depth 100

The first run fills the store (43 x depth LLM calls); then each way in ranks every query
--repeats times and the best repeat counts (the least disturbed by other work on the machine).
`direct` is Reranker.rerank on a Request; each adapter is given its framework's own documents,
built before the clock starts. MCP is a real client session over stdio with `judgerank mcp`.
Also prints the import time of `import judgerank` (no adapter is imported by it). Without the
extras, and against an older tree:

    python3.11 -m venv /tmp/core && /tmp/core/bin/pip install -e .
    python bench/adapters_overhead.py --import-only --python /tmp/core/bin/python --src src,/tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402

from judgerank import Reranker, Runtime  # noqa: E402
from judgerank.core.types import Request  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402


def best_of(repeats: int, run: Callable[[], int]) -> tuple[float, int]:
    """The fastest of `repeats` timed runs (seconds) and the LLM calls the last one made."""
    times, calls = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        calls = run()
        times.append(time.perf_counter() - start)
    return min(times), calls


def import_seconds(python: str, module: str, runs: int = 15, src: str | None = None) -> float:
    """Median wall time of a fresh interpreter importing `module` (from `src` when given), less
    the bare interpreter's."""
    env = {**os.environ, "PYTHONPATH": src} if src else None

    def median(code: str) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, env=env)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median(f"import {module}") - median("pass")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="pointwise")
    ap.add_argument("--model", default=None, help="default: the embedded SmolLM2-135M")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache", default="bench/out/adapters.sqlite")
    ap.add_argument("--skip", default="", help="comma-separated ways in to leave out")
    ap.add_argument("--import-only", action="store_true", help="only time `import judgerank`")
    ap.add_argument("--python", default=sys.executable, help="the interpreter whose import is timed")
    ap.add_argument("--src", default="", help="comma-separated source trees to time the import from (PYTHONPATH)")
    args = ap.parse_args()
    if args.import_only:
        for src in args.src.split(",") if args.src else [None]:
            ms = 1000 * import_seconds(args.python, "judgerank", src=src and str(Path(src).resolve()))
            print(f"import judgerank ({src or 'installed'}, {args.python}): {ms:.0f} ms")
        return
    skip = set(args.skip.split(","))
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    requests = [Request(r.query, r.items[: args.depth]) for r in read_requests(require(DL19 / "bm25_top100_dl19.json"))]
    n = len(requests)
    runtime = Runtime(store=args.cache)
    options = dict(method=args.method, model=args.model, store=args.cache, runtime=runtime)
    rows = []

    def row(name: str, seconds: float, calls: int) -> None:
        rows.append({"way in": name, "ms/query": f"{1000 * seconds / n:.2f}", "LLM calls": calls})
        print(f"{name}: {1000 * seconds / n:.2f} ms/query ({calls} LLM calls)", file=sys.stderr)

    with Reranker(args.method, args.model, runtime=runtime) as reranker:
        start = time.perf_counter()
        warm = sum(reranker.rank(r.query, r.items).costs.calls for r in requests)
        print(f"filled the store: {warm} LLM calls in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        direct, calls = best_of(args.repeats, lambda: sum(reranker.rank(r.query, r.items).costs.calls for r in requests))
        row("direct (Reranker.rerank)", direct, calls)

    if "langchain" not in skip:
        from langchain_core.documents import Document

        from judgerank.adapters.langchain import JudgerankCompressor

        compressor = JudgerankCompressor(top_n=10, **options)
        docs = [[Document(page_content=i.text, id=i.id) for i in r.items] for r in requests]

        def langchain() -> int:
            before = compressor.costs.calls
            for r, d in zip(requests, docs):
                compressor.compress_documents(d, r.query.text)
            return compressor.costs.calls - before

        row("LangChain compressor", *best_of(args.repeats, langchain))

    if "llamaindex" not in skip:
        from llama_index.core.schema import NodeWithScore, TextNode

        from judgerank.adapters.llamaindex import JudgerankPostprocessor

        post = JudgerankPostprocessor(top_n=10, **options)
        nodes = [[NodeWithScore(node=TextNode(text=i.text, id_=i.id)) for i in r.items] for r in requests]

        def llamaindex() -> int:
            before = post.costs.calls
            for r, ns in zip(requests, nodes):
                post.postprocess_nodes(ns, query_str=r.query.text)
            return post.costs.calls - before

        row("LlamaIndex postprocessor", *best_of(args.repeats, llamaindex))

    if "haystack" not in skip:
        from haystack import Document as HDocument

        from judgerank.adapters.haystack import JudgerankRanker

        ranker = JudgerankRanker(top_k=10, **options)
        hdocs = [[HDocument(id=i.id, content=i.text) for i in r.items] for r in requests]

        def haystack() -> int:
            before = ranker.costs.calls
            for r, d in zip(requests, hdocs):
                ranker.run(r.query.text, d)
            return ranker.costs.calls - before

        row("Haystack component", *best_of(args.repeats, haystack))

    if "pyterrier" not in skip:
        import pandas as pd

        from judgerank.adapters.pyterrier import JudgerankReranker

        transformer = JudgerankReranker(**options)
        frame = pd.DataFrame([{"qid": r.query.id, "query": r.query.text, "docno": i.id, "text": i.text, "rank": k,
                               "score": float(args.depth - k)} for r in requests for k, i in enumerate(r.items)])

        def pyterrier() -> int:
            before = transformer.costs.calls
            transformer.transform(frame)
            return transformer.costs.calls - before

        row("PyTerrier transformer (one frame)", *best_of(args.repeats, pyterrier))

    if "mcp" not in skip:
        row("MCP tool over stdio", *mcp_session(args, requests))
    runtime.close()
    print_table(rows, ["way in", "ms/query", "LLM calls"])
    print(f"\nimport judgerank: {1000 * import_seconds(sys.executable, 'judgerank'):.0f} ms "
          "(a fresh interpreter, median of 15, less the bare interpreter's start)")


def mcp_session(args: argparse.Namespace, requests: list[Request]) -> tuple[float, int]:
    """Rank every query through a real MCP client session with `judgerank mcp` over stdio."""
    import anyio
    from mcp import Client, StdioServerParameters

    command = ["-m", "judgerank", "mcp", "--method", args.method, "--cache", args.cache]
    if args.model:
        command += ["--model", args.model]
    params = StdioServerParameters(command=sys.executable, args=command)

    async def run() -> tuple[float, int]:
        async with Client(params) as client:
            await client.list_tools()
            times, calls = [], 0
            for _ in range(args.repeats):
                calls = 0
                start = time.perf_counter()
                for r in requests:
                    result = await client.call_tool("rerank", {"query": r.query.text,
                                                               "documents": [i.text for i in r.items], "top_n": 10})
                    assert not result.is_error, result.content
                    calls += result.structured_content["meta"]["judgerank"]["costs"]["calls"]
                times.append(time.perf_counter() - start)
            return min(times), calls

    return anyio.run(run)


if __name__ == "__main__":
    main()
