"""The text of generated documents read back by independent readers (pypdf, python-docx)."""

from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def docx_text(body: bytes) -> str:
    doc = Document(io.BytesIO(body))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def squeeze(text: str) -> str:
    """Text without line breaks and spaces (PDF lines wrap anywhere in Chinese)."""
    return "".join(text.split())
