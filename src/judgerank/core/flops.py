"""Model FLOPs of a judgment, E2R-FLOPs' convention: what a ranking cost in compute, whatever the
hardware, batching or KV-cache reuse that ran it.

Following E2R-FLOPs (Peng et al., 2025), after Kaplan et al. (2020): a decoder's forward pass
over the token at context position t costs 2N + 2·layers·width·t FLOPs (N the parameters, the
second term attention over the context). A prompt of L tokens then costs
2NL + layers·width·L(L+1), and each of G generated tokens continues the sum from L. Every
prompt token counts, also ones a backend served from a reused prefix: the figure describes the
method, not the machine. N is the parameter count llama.cpp reports (embeddings included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelShape:
    params: int  # N
    layers: int
    width: int  # d_model, the attention width

    def flops(self, prompt_tokens: int, completion_tokens: int = 0) -> float:
        """Estimated FLOPs of one call: L prompt tokens read, G tokens generated after them."""
        n, lw = float(self.params), float(self.layers * self.width)
        big_l, g = float(prompt_tokens), float(completion_tokens)
        prompt = 2.0 * n * big_l + lw * big_l * (big_l + 1.0)
        generated = 2.0 * n * g + 2.0 * lw * (g * big_l + g * (g + 1.0) / 2.0)
        return prompt + generated

    @classmethod
    def from_gguf(cls, metadata: Mapping[str, str], params: int) -> ModelShape | None:
        """The shape from a GGUF's metadata ('<arch>.block_count', '<arch>.embedding_length')."""
        arch = metadata.get("general.architecture", "")
        try:
            return cls(params, int(metadata[f"{arch}.block_count"]), int(metadata[f"{arch}.embedding_length"]))
        except (KeyError, ValueError):
            return None

