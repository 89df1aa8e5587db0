"""TREC files: runs (qid Q0 docid rank score tag) and qrels (qid 0 docid grade).

Readers name the file and line of any malformed input.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from judgerank.core.errors import JudgerankError, shown
from judgerank.core.types import Ranking
from judgerank.io.files import reading


def _lines(path: str | Path) -> Iterable[tuple[int, str]]:
    with reading(path) as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line


def read_run_with_tag(path: str | Path) -> tuple[dict[str, dict[str, float]], str]:
    """The run {qid: {docid: score}} in file order, and its tag (trec_eval's runid)."""
    run: dict[str, dict[str, float]] = {}
    tag = ""
    for number, line in _lines(path):
        if number == 1 and line.lstrip().startswith(("{", "[")):
            raise JudgerankError(
                f"{path}: this is JSON (judgerank's .jsonl output?), not a TREC run; "
                "write one with --out NAME.trec, or give a file of 'qid Q0 docid rank score tag' lines"
            )
        parts = line.split()
        if len(parts) != 6:
            raise JudgerankError(
                f"{path}:{number}: a run line has 6 columns 'qid Q0 docid rank score tag', "
                f"this one has {len(parts)}: {shown(line)}"
            )
        try:
            score = float(parts[4])
        except ValueError:
            raise JudgerankError(f"{path}:{number}: score {shown(parts[4], 20)} is not a number") from None
        run.setdefault(parts[0], {})[parts[2]] = score
        tag = tag or parts[5]
    if not run:
        raise JudgerankError(f"{path}: empty run file")
    return run, tag


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 4:
            raise JudgerankError(f"{path}:{number}: a qrels line needs 'qid iter docid grade', got {shown(line)}")
        try:
            grade = int(parts[3])
        except ValueError:
            raise JudgerankError(f"{path}:{number}: grade {shown(parts[3], 20)} is not an integer") from None
        qrels.setdefault(parts[0], {})[parts[2]] = grade
    if not qrels:
        raise JudgerankError(f"{path}: empty qrels file")
    return qrels


def run_lines(ranking: Ranking, tag: str) -> list[str]:
    """TREC run lines for one ranking; scores descend with rank so any evaluator keeps our order."""
    n = len(ranking.ids)
    return [f"{ranking.query_id} Q0 {doc} {r} {n - r + 1} {tag}" for r, doc in enumerate(ranking.ids, 1)]
