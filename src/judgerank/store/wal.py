"""Damage in a SQLite write-ahead log, found before SQLite reads it.

SQLite replays a WAL up to its first frame whose checksum fails and drops the rest without a
word: a flipped byte in the middle of the log silently loses every judgment committed after it.
A torn last write after a crash looks the same, but nothing committed follows it. So damage is a
frame that fails its checksum with a committed frame of the same log (same salts) after it.
The format and the checksum are SQLite's (https://www.sqlite.org/fileformat2.html#walformat).
"""

from __future__ import annotations

import struct
from pathlib import Path

HEADER = 32
FRAME_HEADER = 24
MAGIC_LE, MAGIC_BE = 0x377F0682, 0x377F0683


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def lost_commits(wal: Path) -> int:
    """How many committed transactions of this WAL lie after a damaged frame (0: none, or no WAL)."""
    try:
        data = wal.read_bytes()
    except OSError:
        return 0
    if len(data) < HEADER:
        return 0
    magic, _, page_size, _, salt1, salt2, c0, c1 = struct.unpack(">8I", data[:HEADER])
    if magic not in (MAGIC_LE, MAGIC_BE) or page_size < 512 or page_size & (page_size - 1):
        return 0
    big = magic == MAGIC_BE
    s = _checksum(data[:24], 0, 0, big)
    if s != (c0, c1):
        return 0  # a header SQLite itself would not trust: it starts a new log
    size = FRAME_HEADER + page_size
    damaged, lost = False, 0
    for start in range(HEADER, len(data) - size + 1, size):
        page, commit, f1, f2, k0, k1 = struct.unpack(">6I", data[start : start + FRAME_HEADER])
        if (f1, f2) != (salt1, salt2):
            break  # frames of an older log, left after a checkpoint: not this log's
        if damaged:
            lost += commit != 0
            continue
        s = _checksum(data[start : start + 8] + data[start + FRAME_HEADER : start + size], *s, big)
        if s != (k0, k1):
            damaged = True
    return lost
