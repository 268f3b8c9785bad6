"""Text search that works for Chinese without a segmenter: CJK runs are indexed as character bigrams (and single
characters, so one-character queries work), other text as lower-cased words, into a ``simple`` tsvector.

A query matches when every one of its terms is present (bigrams of the query, AND-ed): a cheap, predictable
approximation of substring search that a GIN index serves, independent of the database's locale (``pg_trgm``
ignores CJK characters unless the database's ctype classifies them as letters).
"""

from __future__ import annotations

import itertools
import operator
import re

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKENS = re.compile(rf"[{_CJK}]+|[^\W{_CJK}_]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_TERMS = 4000


def _terms(text: str, *, unigrams: bool) -> list[str]:
    out: list[str] = []
    for token in _TOKENS.findall(text.lower()):
        if _IS_CJK.match(token):
            if len(token) == 1 or unigrams:
                out += token
            out += map(operator.add, token, token[1:])  # the bigrams
        else:
            out.append(token[:60])
    return out


def index_terms(*texts: str | None) -> str:
    """The space-separated terms to store with ``to_tsvector('simple', ...)``."""
    terms = dict.fromkeys(itertools.chain.from_iterable(_terms(text, unigrams=True) for text in texts if text))
    return " ".join(itertools.islice(terms, MAX_TERMS))


def query_terms(text: str) -> list[str]:
    """The terms a query must all match (bigrams for CJK runs longer than one character)."""
    return list(dict.fromkeys(_terms(text, unigrams=False)))
