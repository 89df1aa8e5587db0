"""TREC files: runs (qid Q0 docid rank score tag), qrels (qid 0 docid grade), topics (qid<TAB>text).

Readers name the file and line of any malformed input.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from judgerank.errors import JudgerankError
from judgerank.types import Ranking


def _lines(path: str | Path) -> Iterable[tuple[int, str]]:
    p = Path(path)
    if not p.is_file():
        raise JudgerankError(f"{p}: no such file")
    try:
        with p.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield number, line
    except UnicodeDecodeError as exc:
        raise JudgerankError(f"{p}: not UTF-8 text ({exc.reason})") from exc


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) < 5:
            raise JudgerankError(f"{path}:{number}: a run line needs 'qid Q0 docid rank score [tag]', got {line.strip()!r}")
        try:
            score = float(parts[4])
        except ValueError:
            raise JudgerankError(f"{path}:{number}: score {parts[4]!r} is not a number") from None
        run.setdefault(parts[0], {})[parts[2]] = score
    if not run:
        raise JudgerankError(f"{path}: empty run file")
    return run


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 4:
            raise JudgerankError(f"{path}:{number}: a qrels line needs 'qid iter docid grade', got {line.strip()!r}")
        try:
            grade = int(parts[3])
        except ValueError:
            raise JudgerankError(f"{path}:{number}: grade {parts[3]!r} is not an integer") from None
        qrels.setdefault(parts[0], {})[parts[2]] = grade
    if not qrels:
        raise JudgerankError(f"{path}: empty qrels file")
    return qrels


def read_topics(path: str | Path) -> dict[str, str]:
    topics: dict[str, str] = {}
    for number, line in _lines(path):
        qid, sep, text = line.rstrip("\n").partition("\t")
        if not sep or not text.strip():
            raise JudgerankError(f"{path}:{number}: a topics line needs 'qid<TAB>query text'")
        topics[qid] = text.strip()
    return topics


def run_lines(ranking: Ranking, tag: str) -> list[str]:
    """TREC run lines for one ranking; scores descend with rank so any evaluator keeps our order."""
    n = len(ranking.ids)
    return [f"{ranking.query_id} Q0 {doc} {r} {n - r + 1} {tag}" for r, doc in enumerate(ranking.ids, 1)]


def write_run(rankings: Iterable[Ranking], path: str | Path, tag: str = "judgerank") -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for ranking in rankings:
            fh.writelines(line + "\n" for line in run_lines(ranking, tag))
