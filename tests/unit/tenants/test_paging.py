"""Keyset paging cuts one extra row into the next cursor, and only when that row exists."""

from __future__ import annotations

import asyncio

from tenants import paging


def test_the_extra_row_makes_the_cursor_the_last_key_of_the_page():
    assert paging.cut([1, 2, 3], 2, key=str) == ([1, 2], "2")
    assert paging.cut([1, 2], 2, key=str) == ([1, 2], None)  # exactly a page: the last one
    assert paging.cut([], 2, key=str) == ([], None)


def test_page_asks_the_service_for_one_row_more():
    asked = []

    async def fetch(n: int) -> list[int]:
        asked.append(n)
        return list(range(n))

    assert asyncio.run(paging.page(fetch, 3, key=lambda r: r * 10)) == ([0, 1, 2], 20)
    assert asked == [4]
