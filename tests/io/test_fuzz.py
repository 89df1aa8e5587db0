"""Every reader and parser, fed hostile input by hypothesis: it parses, or it raises one
JudgerankError naming the file; nothing else escapes (tests/fuzzing.py says what is generated).
bench/fuzz_readers.py runs the same properties on 10,000 inputs each and counts crashes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from helpers.fuzzing import PARSERS, READERS, parse_once, read_once
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_parses_or_names_the_file(name: str) -> None:
    folder = Path(tempfile.mkdtemp())

    @FUZZ
    @given(st.data())
    def check(data: st.DataObject) -> None:
        crash = read_once(name, folder, data.draw(READERS[name][2]))
        if crash is not None:
            raise crash

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parser_parses_or_refuses_in_one_line(name: str) -> None:
    @FUZZ
    @given(PARSERS[name])
    def check(value: object) -> None:
        crash = parse_once(name, value)
        if crash is not None:
            raise crash

    check()


@pytest.mark.parametrize("content", [
    b'{"query": "q", "query_id": ' + b"9" * 5000 + b', "candidates": ["a"]}',
    b"[" * 100_000 + b"]" * 100_000,
])
def test_json_that_json_refuses_late_is_one_error_naming_the_line(tmp_path: Path, content: bytes) -> None:
    from judgerank.core.errors import JudgerankError
    from judgerank.rerank.files import read_requests

    path = tmp_path / "requests.jsonl"
    path.write_bytes(content)
    with pytest.raises(JudgerankError, match=rf"{path}:1: "):
        read_requests(path)


def test_corrupt_gzip_battles_are_one_error(tmp_path: Path) -> None:
    import gzip

    from judgerank.arena.files import read_battles
    from judgerank.core.errors import JudgerankError

    packed = bytearray(gzip.compress(b"model_a,model_b,winner\n" + b"x,y,model_a\n" * 50))
    packed[20] ^= 0xFF
    path = tmp_path / "battles.csv.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(JudgerankError, match="cannot read"):
        read_battles(path)


def test_permutation_parser_reads_giant_labels_as_invalid() -> None:
    from judgerank.judges.listwise import parse_permutation

    order, report = parse_permutation("[" + "9" * 5000 + "] > [2] > [1]", 3)
    assert order == [1, 0, 2] and report.invalid == 1 and report.missing == 1
