"""HTTP vs in-process cost per judgment on the same llama.cpp model.

The same pointwise judgments (DL19 queries x BM25 passages, distinct prompts) are scored by the
in-process LlamaCppBackend and by OpenAICompatBackend against `python -m llama_cpp.server`
running the same GGUF with the same thread count; each starts cold on those prompts. Prints
seconds per judgment for each and the largest log-probability difference between them.

    python bench/http_overhead.py --judgments 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from common import DL19, free_port, require, wait_until_up

from judgerank.backends.llamacpp import LlamaCppBackend
from judgerank.backends.models import resolve_gguf
from judgerank.backends.openai_compat import OpenAICompatBackend
from judgerank.judges.base import clip
from judgerank.judges.templates import load_template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="named model or GGUF (default: the embedded SmolLM2)")
    ap.add_argument("--judgments", type=int, default=200)
    ap.add_argument("--top-logprobs", type=int, default=100, help="top tokens asked over HTTP (OpenAI allows 20)")
    args = ap.parse_args()
    template = load_template("relevance-yes-no")
    topics = json.loads(require(DL19 / "bm25_top100_dl19.json").read_text())
    requests = [
        template.request(query=t["query"], passage=clip(h["content"], 200)) for t in topics for h in t["hits"][:10]
    ][: args.judgments]
    threads = os.cpu_count()

    port = free_port()
    path = resolve_gguf(args.model)
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--port", str(port), "--n_ctx", "4096",
         "--n_threads", str(threads), "--n_batch", "512", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", server)
        http = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1", "m", api_key_env=None, concurrency=1,
                                   top_logprobs=args.top_logprobs)
        list(http.iter_choice_logprobs([template.request(query="warm", passage="up")]))
        start = time.perf_counter()
        over_http = dict(http.iter_choice_logprobs(requests))
        http_s = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(30)

    local = LlamaCppBackend(args.model, n_threads=threads)
    list(local.iter_choice_logprobs([template.request(query="warm", passage="up")]))
    start = time.perf_counter()
    in_process = dict(local.iter_choice_logprobs(requests))
    local_s = time.perf_counter() - start

    n = len(requests)
    diff = max(abs(a - b) for i in range(n) for a, b in zip(over_http[i].logprobs, in_process[i].logprobs))
    tokens = sum(r.prompt_tokens for r in in_process.values())
    print(f"model {path.name}: {n} pointwise judgments, {tokens} prompt tokens, {threads} threads")
    print(f"in-process: {1000 * local_s / n:.1f} ms/judgment ({local_s:.1f} s)")
    print(f"HTTP (llama_cpp.server, concurrency 1): {1000 * http_s / n:.1f} ms/judgment ({http_s:.1f} s)")
    print(f"overhead: {1000 * (http_s - local_s) / n:+.1f} ms/judgment ({http_s / local_s:.2f}x); "
          f"max |logprob difference| {diff:.2e}; {http.bounded_choices} choice scores outside the top "
          f"{args.top_logprobs} (bounded)")


if __name__ == "__main__":
    main()
