"""Run benchmarks: ``python -m tests.bench [NAME ...]`` runs ``tests/bench/<NAME>.py``'s ``main()`` (all when none)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    for name in names:
        print(f"== {name}")
        importlib.import_module(f"tests.bench.{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
