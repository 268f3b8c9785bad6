"""The extraction parses COPY's CSV in batches while it streams: the batches cut only between rows (never inside a
quoted value that holds a newline or a doubled quote), so the frame is the one a single parse gives."""

from __future__ import annotations

import asyncio
import io
import random

import polars as pl

from analytics.extract import _CsvBatches

SCHEMA = {"id": pl.Int64(), "note": pl.String(), "n": pl.Int64()}


def _csv(rows: list[tuple[int, str | None, int]]) -> bytes:
    out = io.StringIO()
    pl.DataFrame(rows, schema=SCHEMA, orient="row").write_csv(out, include_header=False, quote_style="necessary")
    return out.getvalue().encode()


async def _streamed(data: bytes, batch: int, chunks: list[int]) -> pl.DataFrame:
    reader = _CsvBatches(SCHEMA)
    reader.BATCH = batch
    at = 0
    for size in chunks:
        await reader.feed(data[at : at + size])
        at += size
    await reader.feed(data[at:])
    return await reader.frame()


def test_batches_cut_between_rows_only_and_give_the_single_parse():
    rng = random.Random(7)
    notes = ["plain", 'with "quotes"', "two\nlines", "comma, inside", "", None, '"\n"', "尾部\n中文"]
    rows = [(i, rng.choice(notes), rng.randint(-5, 5)) for i in range(3000)]
    data = _csv(rows)
    whole = pl.read_csv(data, has_header=False, schema=SCHEMA)
    assert whole.height == 3000
    for batch in (1, 64, 1000, 1 << 20):
        chunks = [rng.randint(1, 700) for _ in range(200)]
        streamed = asyncio.run(_streamed(data, batch, chunks))
        assert streamed.equals(whole), batch


def test_no_rows_is_an_empty_frame_of_the_schema():
    frame = asyncio.run(_streamed(b"", 16, []))
    assert frame.height == 0 and frame.schema == pl.Schema(SCHEMA)
