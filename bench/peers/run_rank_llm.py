"""rank-llm's RankGPT listwise reranker (SafeOpenai, sliding windows) on a judgerank peer job; run with the
python of bench/.peers/rank-llm (bench/peers/setup.sh). Usage: run_rank_llm.py JOB.json OUT.jsonl

Three things are changed around rank-llm, none in how it ranks:
- `vllm` is imported by rank_llm.rerank.listwise's package but only used by the open-source-model path; a
  bare module stands in for it, so the OpenAI path imports without the GPU stack.
- tiktoken's encodings cannot be downloaded offline; rank-llm counts tokens with the model's own
  tokenizer instead (qwen_tokens.py).
- rank-llm calls the API with a 30 s timeout and retries forever; a 20-passage window takes longer than
  that on a CPU, so the timeout is raised to the job's.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

for name in ("vllm", "vllm.outputs"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["vllm"].outputs = sys.modules["vllm.outputs"]
for attr in ("LLM", "SamplingParams", "RequestOutput"):
    setattr(sys.modules["vllm"], attr, object)
sys.modules["vllm.outputs"].RequestOutput = object

from openai.resources.chat.completions import Completions  # noqa: E402
from qwen_tokens import use_model_tokenizer  # noqa: E402


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    use_model_tokenizer(job["gguf"])
    create = Completions.create
    Completions.create = lambda self, *a, **kw: create(self, *a, **{**kw, "timeout": job["timeout"]})

    from rank_llm.data import Candidate, Query, Request
    from rank_llm.rerank import Reranker
    from rank_llm.rerank.listwise.rank_gpt import SafeOpenai
    from rank_llm.rerank.rankllm import PromptMode

    agent = SafeOpenai(
        model=job["model"], context_size=job["context"], prompt_mode=PromptMode.RANK_GPT,
        window_size=job["window"], stride=job["stride"], keys="none", base_url=job["base_url"] + "/",
    )
    reranker = Reranker(agent)
    with open(sys.argv[2], "w") as out:
        for r in job["requests"]:
            n = len(r["docs"])
            candidates = [Candidate(docid=d, score=float(n - k), doc={"text": t}) for k, (d, t) in enumerate(r["docs"])]
            request = Request(Query(r["query"], r["qid"]), candidates)
            t0 = time.perf_counter()
            result = reranker.rerank(request, rank_start=0, rank_end=len(r["docs"]))
            seconds = time.perf_counter() - t0
            out.write(json.dumps({"qid": r["qid"], "ranking": [c.docid for c in result.candidates],
                                  "seconds": seconds}) + "\n")
            out.flush()
            print(f"  rank-llm q{r['qid']}: {seconds:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
