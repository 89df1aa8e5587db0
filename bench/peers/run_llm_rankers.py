"""llm-rankers' setwise or pairwise OpenAI reranker (heap sort for the top k) on a judgerank peer job; run
with the python of bench/.peers/llm-rankers (bench/peers/setup.sh). Usage: run_llm_rankers.py JOB.json OUT.jsonl

Around llm-rankers, not in how it ranks: tiktoken's encodings cannot be downloaded offline, so it gets the
model's own tokenizer (qwen_tokens.py); its 15 s request timeout is raised to the job's, since a CPU server
can take longer and llm-rankers retries timeouts forever; the module-level openai client points at the
job's server.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai  # noqa: E402
from qwen_tokens import use_model_tokenizer  # noqa: E402


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    use_model_tokenizer(job["gguf"])
    openai.api_base = job["base_url"]
    create = openai.ChatCompletion.create
    openai.ChatCompletion.create = lambda *a, **kw: create(*a, **{**kw, "request_timeout": job["timeout"]})

    from llmrankers.pairwise import OpenAiPairwiseLlmRanker
    from llmrankers.rankers import SearchResult
    from llmrankers.setwise import OpenAiSetwiseLlmRanker

    if job["peer_method"] == "setwise":
        ranker = OpenAiSetwiseLlmRanker(
            job["model"], "none", num_child=job["num_child"], method="heapsort", k=job["top_k"]
        )
    else:
        ranker = OpenAiPairwiseLlmRanker(job["model"], "none", method="heapsort", k=job["top_k"])
    with open(sys.argv[2], "w") as out:
        for r in job["requests"]:
            n = len(r["docs"])
            docs = [SearchResult(docid=d, score=float(n - k), text=t) for k, (d, t) in enumerate(r["docs"])]
            t0 = time.perf_counter()
            ranked = ranker.rerank(r["query"], docs)
            seconds = time.perf_counter() - t0
            out.write(json.dumps({"qid": r["qid"], "ranking": [d.docid for d in ranked], "seconds": seconds}) + "\n")
            out.flush()
            print(f"  llm-rankers {job['peer_method']} q{r['qid']}: {seconds:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
