"""In-process transformers backend that reads attention: what ICR (in-context reranking) needs.

llama.cpp and HTTP servers give next-token probabilities only; attention weights need the model's
internals. transformers loads the same GGUF files (dequantised with the `gguf` package; the
`attention` extra) or a transformers model folder, here in bfloat16 on the CPU.

One request is one prompt: a head, the segments (passages) each after a separator, then a probe
(the instruction and the query) running to the end of the chat prompt. The prefix up to the probe
is run once with the fast attention kernel into a KV cache; the probe is run twice on that cache
with eager attention, whose weights are returned: once as given, once with the content-free
calibration probe. Only the probe's rows of each attention matrix are ever formed, so memory stays
near the weights plus the KV cache (docs/benchmarks/rerank.md measures it).

The score of a segment follows ICR's default ("masked N/A calibration"): the attention of each
of its tokens, averaged over the probe's tokens and summed over every layer and head, minus the
same from the calibration probe; tokens whose difference falls below the segment's mean minus two
standard deviations are left out, and the rest summed.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from judgerank.backends.base import AttentionRequest, AttentionResult, Backend
from judgerank.backends.llamacpp import quiet_loading
from judgerank.backends.models import resolve_gguf
from judgerank.core.errors import JudgerankError, require_modules
from judgerank.core.flops import ModelShape


def check_installed() -> None:
    """Fail with what to install when the attention backend's libraries are missing."""
    require_modules("icr (the model's attention weights, read through transformers)", "attention", "torch",
                    "transformers", "gguf", "accelerate")


def model_source(model: str | None) -> tuple[str, dict[str, str], int, str]:
    """(what from_pretrained reads, its keyword arguments, size in bytes, name) for a transformers
    model folder, or a named model or GGUF path (a one-line error if it cannot be had)."""
    folder = Path(model).expanduser() if model else None
    if folder is not None and folder.is_dir():
        return str(folder), {}, sum(f.stat().st_size for f in folder.iterdir() if f.is_file()), folder.name
    path = resolve_gguf(model)
    return str(path.parent), {"gguf_file": path.name}, path.stat().st_size, path.stem


class TransformersBackend(Backend):
    """A causal LM run by transformers in this process, giving ICR's attention scores."""

    def __init__(self, model: str | None = None, *, n_ctx: int | None = None, n_threads: int | None = None) -> None:
        check_installed()
        import torch
        import transformers

        source, kwargs, size, name = model_source(model)
        self._torch = torch
        torch.set_num_threads(n_threads or os.cpu_count() or 1)
        transformers.logging.set_verbosity_error()
        try:
            with quiet_loading():
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
                self.model = transformers.AutoModelForCausalLM.from_pretrained(
                    source, dtype=torch.bfloat16, attn_implementation="sdpa", **kwargs
                )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise JudgerankError(f"model {model or 'default'}: transformers cannot load it ({exc})") from None
        self.model.eval()
        # the KV cache's keyword: `cache` from transformers 5.2x, `past_key_values` before
        self._cache_arg = "cache" if "cache" in inspect.signature(self.model.model.forward).parameters else "past_key_values"
        config = self.model.config
        if not getattr(self.tokenizer, "chat_template", None):
            raise JudgerankError(f"model {name}: has no chat template")
        self.max_tokens: int = n_ctx or int(getattr(config, "max_position_embeddings", None) or 4096)
        params = sum(p.numel() for p in self.model.parameters())
        self.shape: ModelShape | None = ModelShape(params, int(config.num_hidden_layers), int(config.hidden_size))
        self.identity = f"transformers:{name}:{size}:bf16"

    def is_single_token(self, text: str) -> bool:
        return len(self._encode(text)) == 1

    def _encode(self, text: str, *, special: bool = False) -> list[int]:
        """Tokens of a piece of the prompt; untrusted text keeps control-token look-alikes as text."""
        if not text:
            return []
        ids = self.tokenizer(text, add_special_tokens=False, split_special_tokens=not special)["input_ids"]
        return [int(t) for t in ids]

    def _frame(self, system: str) -> tuple[list[int], list[int]]:
        """The chat template's tokens before and after the user turn's content."""
        marker = "\x00USER\x00"
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": marker}]
        rendered = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        before, found, after = str(rendered).partition(marker)
        if not found:
            raise JudgerankError("the model's chat template drops the user message")
        return self._encode(before, special=True), self._encode(after, special=True)

    def layout(self, request: AttentionRequest) -> tuple[list[int], list[tuple[int, int]], list[int], list[int]]:
        """(prefix tokens, each segment's token span in it, probe tokens, calibration probe tokens):
        the probes run to the end of the prompt, the assistant turn's opening included."""
        before, after = self._frame(request.system)
        prefix = before + self._encode(request.head)
        spans = []
        for segment in request.segments:
            prefix += self._encode(request.separator)
            start = len(prefix)
            prefix += self._encode(segment)
            spans.append((start, len(prefix)))
        prefix += self._encode(request.separator)
        return prefix, spans, self._encode(request.probe) + after, self._encode(request.calibration) + after

    def iter_attention(self, requests: Sequence[AttentionRequest]) -> Iterator[tuple[int, AttentionResult]]:
        layouts = [self.layout(r) for r in requests]
        for prefix, _, probe, calibration in layouts:  # every prompt is checked before any is run
            length = len(prefix) + max(len(probe), len(calibration))
            if length > self.max_tokens:
                raise JudgerankError(
                    f"prompt of {length} tokens exceeds the model context of {self.max_tokens}: rank fewer "
                    "candidates at once (--depth, --window) or shorten them"
                )
        for i, (prefix, spans, probe, calibration) in enumerate(layouts):
            scores = self.attention_scores(prefix, spans, probe, calibration)
            tokens = len(prefix) + len(probe)
            yield i, AttentionResult(tuple(scores), tokens, tokens + len(calibration))

    def probe_attention(self, prefix: list[int], probes: Sequence[list[int]]) -> list[Any]:
        """For each probe after the prefix: the attention each position of prefix + probe gets from
        the probe's tokens, averaged over them, per layer and head (float32, layers x heads x
        positions)."""
        torch = self._torch
        from transformers import DynamicCache

        model = self.model.model  # the decoder without the LM head: no logits are needed
        out = []
        with torch.no_grad():
            cache = DynamicCache(config=self.model.config)
            model(input_ids=torch.tensor([prefix]), use_cache=True, **{self._cache_arg: cache})
            self.model.set_attn_implementation("eager")  # the only kernel that returns its weights
            try:
                for probe in probes:
                    result = model(input_ids=torch.tensor([probe]), use_cache=True, output_attentions=True,
                                   **{self._cache_arg: cache})
                    # each layer: (1, heads, probe tokens, prefix + probe tokens)
                    out.append(torch.stack([a[0].float().mean(dim=1) for a in result.attentions]))
                    cache.crop(-len(probe))  # back to the prefix alone
            finally:
                self.model.set_attn_implementation("sdpa")
        return out

    def attention_scores(
        self, prefix: list[int], spans: Sequence[tuple[int, int]], probe: list[int], calibration: list[int]
    ) -> list[float]:
        """ICR's masked N/A-calibrated score of each span (see the module's docstring)."""
        asked, content_free = (heads.sum(dim=(0, 1)) for heads in self.probe_attention(prefix, [probe, calibration]))
        scores = []
        for start, end in spans:
            q, na = asked[start:end], content_free[start:end]
            calibrated = q - na
            if end - start > 1:
                keep = calibrated > calibrated.mean() - 2 * calibrated.std()
                calibrated = calibrated * keep
            scores.append(float(calibrated.sum()))
        return scores
