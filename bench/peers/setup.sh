#!/usr/bin/env bash
# Two virtual environments for the peer rerankers, beside ours but apart from it: rank-llm wants openai>=1,
# llm-rankers the pre-1.0 openai module API. Neither needs its GPU stack (vllm) to call an OpenAI-compatible
# server, so each is installed without dependencies, plus what its OpenAI code path imports; torch and
# transformers (imported at module level by both) come from the project's .venv through a .pth file,
# placed after each environment's own packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
make_env() {  # name, then pip arguments
  local dir=bench/.peers/$1; shift
  [ -x "$dir/bin/python" ] || .venv/bin/python -m venv "$dir"
  "$dir/bin/pip" install -q "$@"
  local site; site=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$BASE" > "$site/zz_judgerank_venv.pth"
}
make_env rank-llm --no-deps rank-llm==0.25.7 'openai>=1.23.6,<2' tiktoken ftfy dacite python-dotenv pyyaml tqdm \
  httpx anyio distro jiter sniffio 'pydantic>=2' typing-extensions h11 httpcore certifi idna regex wcwidth
make_env llm-rankers --no-deps llm-rankers==0.0.2 'openai==0.28.1' tiktoken requests aiohttp tqdm \
  aiosignal frozenlist multidict yarl attrs propcache aiohappyeyeballs charset-normalizer urllib3 certifi idna regex
# rank-llm imports transformers 4 APIs that transformers 5 removed
bench/.peers/rank-llm/bin/pip install -q 'transformers>=4.40.1,<4.50'
echo "peers ready in bench/.peers"
