"""CPU time of one process tree, from Linux ``/proc``: the benchmark's own PostgreSQL server (its postmaster and
backends, not every postgres process on the machine) or its own API server (uvicorn and its workers)."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def parent_of(pid: int) -> int:
    fields = _stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return int(fields[1])


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and every living descendant."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += int(stats[pid][11]) + int(stats[pid][12])
        todo.extend(children.get(pid, []))
    return total / TICK


def postmaster_of(url: str) -> int:
    """The PostgreSQL server's postmaster: the parent of a backend of ``url`` (a local server)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
        assert row is not None
        return parent_of(int(row[0]))  # while the backend lives
