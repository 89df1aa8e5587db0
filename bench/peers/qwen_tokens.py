"""Both peers count and truncate text with tiktoken, whose encodings are downloaded on first use: not
possible offline. This gives them the benchmarked model's own tokenizer instead (its GGUF vocabulary, read
by llama-cpp-python), behind tiktoken's encode/decode interface, so their length checks count the tokens
the server will see."""

from __future__ import annotations

import atexit

import tiktoken


class GgufEncoding:
    def __init__(self, gguf: str) -> None:
        from llama_cpp import Llama

        self._llm = Llama(model_path=gguf, vocab_only=True, verbose=False)
        atexit.register(self._llm.close)  # before interpreter shutdown, when its destructor would fail

    def encode(self, text: str, **_: object) -> list[int]:
        return self._llm.tokenize(text.encode(), add_bos=False, special=False)

    def decode(self, tokens: list[int]) -> str:
        return self._llm.detokenize(tokens).decode(errors="ignore")


def use_model_tokenizer(gguf: str) -> None:
    encoding = GgufEncoding(gguf)
    tiktoken.get_encoding = lambda name: encoding
    tiktoken.encoding_for_model = lambda name: encoding
