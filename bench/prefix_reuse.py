"""Judgments per second of LlamaCppBackend with KV-cache prefix reuse against resetting per prompt.

Same prompts, same process, one run: pointwise yes/no prompts for the BM25 top-N of DL19 queries.

    python bench/prefix_reuse.py --model smollm2-135m --queries 5 --depth 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402

from judgerank.backends.llamacpp import LlamaCppBackend  # noqa: E402
from judgerank.judges.base import clip  # noqa: E402
from judgerank.judges.templates import load_template  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--template", default="relevance-yes-no", help="relevance-yes-no or pairwise-prp")
    args = ap.parse_args()

    template = load_template(args.template)
    requests = read_requests(require(DL19 / "bm25_top100_dl19.json"))[: args.queries]
    prompts = []
    for r in requests:
        items = r.items[: args.depth]
        if template.kind == "pairwise":
            for a, b in zip(items, items[1:]):
                prompts.append(template.request(query=r.query.text, a=clip(a.text, 200), b=clip(b.text, 200)))
        else:
            prompts += [template.request(query=r.query.text, passage=clip(i.text, 200)) for i in items]
    backend = LlamaCppBackend(args.model)
    rows, outputs = [], {}
    for reuse in (True, False):
        backend.reuse_prefix = reuse
        backend._llm.n_tokens = 0
        t0 = time.perf_counter()
        results = dict(backend.iter_choice_logprobs(prompts))
        seconds = time.perf_counter() - t0
        outputs[reuse] = [results[i].logprobs for i in range(len(prompts))]
        rows.append({
            "prefix_reuse": reuse, "judgments": len(prompts), "seconds": f"{seconds:.1f}",
            "judgments/s": f"{len(prompts) / seconds:.2f}",
            "prompt_tokens": sum(r.prompt_tokens for r in results.values()),
            "evaluated_tokens": sum(r.evaluated_tokens for r in results.values()),
        })
    drift = max(abs(a - b) for x, y in zip(outputs[True], outputs[False]) for a, b in zip(x, y))
    print(f"model {backend.path.name}, template {template.key}")
    print_table(rows, list(rows[0]))
    print(f"speed-up {float(rows[0]['judgments/s']) / float(rows[1]['judgments/s']):.2f}x; "
          f"largest log-probability difference between the two: {drift:.2e}")


if __name__ == "__main__":
    main()
