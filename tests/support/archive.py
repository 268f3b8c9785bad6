"""A tenant archive read back: its tables as rows, and the data key it is encrypted with in tests."""

from __future__ import annotations

import base64
import csv
import io
import json
import tarfile
from pathlib import Path

from tests.support.platform import DATA_KEY

KEY = base64.b64decode(DATA_KEY)


def archive_tables(archive: Path) -> dict[str, list[dict[str, str]]]:
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        return {
            e["name"]: list(csv.DictReader(io.StringIO(tar.extractfile(e["file"]).read().decode())))  # type: ignore[union-attr]
            for e in manifest["tables"]
        }
