"""Chat-template markers in untrusted text, made inert for every backend.

The in-process backend already tokenises message contents without parsing control tokens, but an
OpenAI-compatible server applies its chat template to the contents and parses '<|im_start|>' in a
passage as the real control token. Rewriting the marker's brackets to look-alike characters keeps
the text readable and guarantees that no tokenizer matches it as a special token. Text without
markers is returned unchanged, so clean prompts (and their stored judgments) are untouched.
"""

from __future__ import annotations

import re

# The markers of common chat templates: ChatML / Qwen / SmolLM (<|im_start|>), Llama 3
# (<|start_header_id|>, <|eot_id|>), Phi (<|end|>, <|user|>), Llama 2 / Mistral ([INST], <<SYS>>,
# <s>, </s>), Gemma (<start_of_turn>, <end_of_turn>) and GPT-style <|endoftext|>.
MARKER = re.compile(
    r"<\|[A-Za-z0-9_]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|<\|?(?:begin|end)_of_text\|?>",
)

_INERT = str.maketrans({"<": "\u2039", ">": "\u203a", "|": "\u00a6", "[": "(", "]": ")"})


def neutralise(text: str) -> str:
    """text with every chat-template marker rewritten with look-alike brackets (‹¦im_start¦›)."""
    return MARKER.sub(lambda m: m.group(0).translate(_INERT), text)
