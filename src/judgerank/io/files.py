"""Opening input files: one place that turns a missing file, a gzipped one, bytes that are not
UTF-8 or a damaged archive into a one-line error naming the file."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from judgerank.core.errors import JudgerankError


def existing(path: str | Path) -> Path:
    """The path, or a one-line error when it is not a file."""
    p = Path(path)
    if not p.is_file():
        raise JudgerankError(f"{p}: no such file")
    return p


@contextmanager
def reading(path: str | Path) -> Iterator[TextIO]:
    """The file as text (gunzipped when its name ends in .gz); any failure to read it while the
    block runs (bad bytes, a cut archive, a CSV field over the limit) is one line naming it."""
    p = existing(path)
    try:
        with gzip.open(p, "rt", encoding="utf-8") if p.suffix == ".gz" else p.open(encoding="utf-8") as fh:
            yield fh
    except UnicodeDecodeError as exc:
        raise JudgerankError(f"{p}: not UTF-8 text ({exc.reason})") from exc
    except (OSError, EOFError, csv.Error, zlib.error) as exc:
        raise JudgerankError(f"{p}: cannot read ({exc})") from exc


def read_text(path: str | Path) -> str:
    """The whole file as text (see `reading`)."""
    with reading(path) as fh:
        return fh.read()


def csv_rows(path: str | Path, with_header: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty CSV row, the first row among them unless with_header is False."""
    with reading(path) as fh:
        for number, row in enumerate(csv.reader(fh), 1):
            if row and (with_header or number > 1):
                yield number, row
