import io
import zipfile

import pytest

from service.petitions.search import index_terms, query_terms
from service.petitions.storage import DOCX, LocalStorage, sniff


def test_cjk_bigrams_and_words():
    terms = index_terms("宿舍热水 Hot water", None, "3号楼").split()
    assert {"宿舍", "舍热", "热水", "宿", "hot", "water", "3", "号楼"} <= set(terms)
    assert query_terms("热水 WATER") == ["热水", "water"]
    assert query_terms("热") == ["热"]
    assert query_terms("!!!") == []


def test_every_query_of_a_substring_matches_its_text():
    text = "学生反映食堂饭菜价格上涨过快"
    stored = set(index_terms(text).split())
    for i in range(len(text)):
        for j in range(i + 1, len(text) + 1):
            assert set(query_terms(text[i:j])) <= stored


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"ID3\x04" + b"\x00" * 20, "audio/mpeg"),
        (b"MZ\x90\x00", None),  # a Windows executable, whatever its name
        (b"\x7fELF\x02\x01", None),
        (b"#!/bin/sh\nrm -rf /", None),
        (b"PK\x03\x04not really a zip", None),
        (b"", None),
    ],
)
def test_sniff_by_content(data, expected):
    assert sniff(data) == expected


def test_docx_is_recognised_but_not_any_zip():
    assert sniff(_docx()) == DOCX
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("payload.exe", "MZ")
    assert sniff(buffer.getvalue()) is None


async def test_local_storage_round_trip_and_refuses_escapes(tmp_path):
    storage = LocalStorage(tmp_path)
    await storage.put("t/p/a", b"data", "image/png")
    assert await storage.get("t/p/a") == b"data"
    with pytest.raises(ValueError):
        await storage.put("../outside", b"x", "image/png")
