#!/usr/bin/env bash
# Every figure of docs/benchmarks.md, one after another, on an otherwise idle machine (the rerank part about an hour
# on 2 cores). Prints one table per configuration; rows also go to bench/out/rerank_dl19.jsonl.
# A fused cascade reuses the judgment cache of the unfused one, so its LLM cost is the unfused row's.
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CACHES=$(mktemp -d)
b() { echo "== $*"; $PY bench/rerank_dl19.py "$@" 2>/dev/null; }
echo "== the default on DL19 and SciFact, and how its weights were chosen (about 40 minutes)"
$PY bench/rerank_default.py
$PY bench/fusion_calibration.py --llm-queries 50
echo "== the runtime: parallel serving against the main before it, and the store under load"
$PY bench/runtime_load.py
$PY bench/arena.py --bootstrap 1000
b --method bm25
b --method embedding --rerun
b --method pointwise --model smollm2-135m --depth 20
b --method pointwise --model qwen2.5-coder-0.5b --depth 20
cascade() {
  b --method cascade --then pointwise --model $1 --cascade-depth 20 --cache "$CACHES/$1.sqlite"
  b --method cascade --then pointwise --model $1 --cascade-depth 20 --cache "$CACHES/$1.sqlite" --fuse
}
cascade smollm2-135m
cascade qwen2.5-coder-0.5b
echo "== prefix reuse"
$PY bench/prefix_reuse.py --model smollm2-135m --queries 5 --depth 20
$PY bench/prefix_reuse.py --model qwen2.5-coder-0.5b --queries 5 --depth 20
$PY bench/prefix_reuse.py --model qwen2.5-coder-0.5b --queries 3 --depth 20 --template pairwise-prp
b --method pairwise-heap --model qwen2.5-coder-0.5b --depth 20 --top-k 10 --queries 5
cascade qwen2.5-coder-1.5b
echo "== rerankers that read more than the answer: icr, FIRST past 20, InsertRank (about 2 hours)"
for m in pointwise icr first; do b --method $m --model qwen2.5-coder-0.5b --depth 20; done
b --method first --model qwen2.5-coder-0.5b --depth 20 --insert-scores
for m in icr first pointwise; do b --method cascade --then $m --fuse --model qwen2.5-coder-0.5b; done
b --method cascade --then first --fuse --insert-scores --model qwen2.5-coder-0.5b
b --method icr --model qwen2.5-coder-1.5b --depth 20
b --method icr --model qwen2.5-coder-0.5b --depth 100 --queries 5
b --method first-full --model qwen2.5-coder-0.5b --depth 100 --queries 5 --context 16384
b --method first-full --model qwen2.5-coder-0.5b --depth 100 --queries 5 --context 16384 --insert-scores
b --method pointwise --model qwen2.5-coder-0.5b --depth 100 --queries 5
$PY bench/icr_variants.py --model qwen2.5-coder-0.5b --scifact 30
echo "== listwise, setwise and blocks against rank-llm and llm-rankers (Qwen 1.5B; about 80 + 60 minutes)"
bash bench/peers/setup.sh
$PY bench/rerank_peers.py --queries 8 --depth 20 --block 10 \
  --methods bm25,first,pointwise,listwise,rank-llm,jointrank,setwise-heap,llm-rankers-setwise
$PY bench/rerank_peers.py --queries 4 --depth 100 --methods bm25,cascade,cascade-first,rank-llm,first
echo "== the framework adapters over calling judgerank directly"
$PY bench/adapters_overhead.py
echo "== serving"
$PY bench/server_load.py --clients 4 --requests 16 --docs 20
$PY bench/http_overhead.py --judgments 200 --top-logprobs 100
$PY bench/http_overhead.py --judgments 200 --top-logprobs 20
echo "== judging (several CPU hours with Qwen 1.5B)"
$PY bench/judge_agreement.py --limit 100 --fresh
$PY bench/alpaca_leaderboard.py --model smollm2-135m --instructions 20
echo "== spending judgments: how the models judge pairs, the pairwise methods simulated, the cost model (about 1.5 h)"
$PY bench/judge_noise.py --model qwen2.5-coder-0.5b --pairs 300
$PY bench/judge_noise.py --model qwen2.5-coder-1.5b --pairs 200
echo '{"model": "reference judge (scale 1 log-odds per grade, chosen)", "scale": 1.0, "bias": 0.5, "noise": 0.5}' \
  > bench/out/judge-noise-reference.json
for judge in reference qwen2.5-coder-0.5b qwen2.5-coder-1.5b; do
  $PY bench/active_simulation.py --noise-file bench/out/judge-noise-$judge.json --out bench/out/active_simulation_$judge
done
$PY bench/plan_accuracy.py --n 20 --noise-file bench/out/judge-noise-reference.json
for m in pointwise first setwise-heap realm active pairwise-heap; do
  $PY bench/rerank_dl19.py --method $m --model qwen2.5-coder-0.5b --depth 20 --queries 4 --threads 2
done
echo "== relevance assessment and distillation (about 1.5 h)"
for step in runs assess report; do $PY bench/assess_dl19.py $step; done
for step in teach train report speed; do $PY bench/distil.py $step; done
echo "== untrusted text and hostile input (about 1 h)"
$PY bench/injection_families.py
$PY bench/injection_families.py --method pointwise --queries 10 --threads 2
$PY bench/injection_families.py --method pointwise --model qwen2.5-coder-0.5b --queries 6 --threads 2
$PY bench/fuzz_readers.py
$PY bench/fuzz_endpoints.py
$PY bench/server_hostile.py
