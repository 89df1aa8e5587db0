#!/usr/bin/env bash
# Every figure of the rerank report, one after another (CPU hours: run in the background).
# Output: bench/out/rerank_dl19.jsonl (one JSON row per configuration) and the printed tables.
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
b() { echo "== $*"; $PY bench/rerank_dl19.py "$@" 2>/dev/null; }
b --method bm25
b --method embedding --rerun
b --method pointwise --model smollm2-135m --depth 20
b --method pointwise-graded --model smollm2-135m --depth 20
b --method pointwise --model qwen2.5-coder-0.5b --depth 20
b --method cascade --then pointwise --model smollm2-135m --cascade-depth 20
b --method cascade --then pointwise --model qwen2.5-coder-0.5b --cascade-depth 20
b --method pointwise --model smollm2-135m
b --method pairwise-heap --model qwen2.5-coder-0.5b --depth 20 --top-k 10
echo "== prefix reuse"
$PY bench/prefix_reuse.py --model smollm2-135m --queries 5 --depth 20
$PY bench/prefix_reuse.py --model qwen2.5-coder-0.5b --queries 5 --depth 20
$PY bench/prefix_reuse.py --model qwen2.5-coder-0.5b --queries 3 --depth 20 --template pairwise-prp
