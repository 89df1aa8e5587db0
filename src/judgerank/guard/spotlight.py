"""Spotlighting (Hines et al., 2024): untrusted text marked as data in the prompt itself.

"delimit" fences the passage in <passage> tags (a tag inside it is rewritten, so it cannot close
the fence); "datamark" replaces its spaces with '^'. Each goes with a prompt template that tells
the model what the marking means (judges/prompts/relevance-yes-no-<how>.toml). For the pointwise
relevance judge only; off by default: on DL19 neither stopped these models from obeying injected
text (the detector does), datamarking cost Qwen2.5-Coder-0.5B 0.02 nDCG@10 and delimiting cost
the embedded SmolLM2 0.028 (while it gained Qwen 0.036; docs/benchmarks/safety.md).
"""

from __future__ import annotations

import re

SPOTLIGHTS = ("off", "delimit", "datamark")
_FENCE = re.compile(r"</?\s*passage\s*>", re.IGNORECASE)


def spotlit(text: str, how: str) -> str:
    """text marked as data for a prompt spotlit by `how`."""
    if how == "delimit":
        return _FENCE.sub("(passage)", text)
    if how == "datamark":
        return "^".join(text.split())
    return text
