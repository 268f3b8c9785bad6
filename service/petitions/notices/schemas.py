"""Request and response bodies of the notice routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from service.http.deps import Input
from service.petitions.notices import templates as t
from service.petitions.notices.models import Notice
from service.petitions.notices.services import Template
from service.petitions.schemas import LookupIn

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=t.TITLE_MAX)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=t.BODY_MAX)]


class NoticeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    petition_id: uuid.UUID
    kind: str
    document_number: str
    year: int
    issued_at: datetime
    title: dict[str, str]
    replaces_id: uuid.UUID | None = None
    correction_reason: str | None = None
    # The notice that corrects this one (then this one is no longer in force).
    replaced_by_id: uuid.UUID | None = None

    @classmethod
    def of(cls, n: Notice, replaced_by: uuid.UUID | None = None) -> NoticeOut:
        # The second block of the composed document is its title.
        titles = {lang: str(blocks[1]["h"]) for lang, blocks in n.content.items()}
        return cls(
            id=n.id,
            petition_id=n.petition_id,
            kind=n.kind,
            document_number=n.number,
            year=n.year,
            issued_at=n.issued_at,
            title=titles,
            replaces_id=n.replaces_id,
            correction_reason=n.correction_reason,
            replaced_by_id=replaced_by,
        )


class TemplateOut(msgspec.Struct, kw_only=True):
    kind: str
    lang: str
    title: str
    body: str
    customized: bool
    placeholders: list[str]
    updated_at: datetime | None = None

    @classmethod
    def of(cls, x: Template) -> TemplateOut:
        return cls(
            kind=x.kind,
            lang=x.lang,
            title=x.title,
            body=x.body,
            customized=x.customized,
            placeholders=list(x.placeholders),
            updated_at=x.updated_at,
        )


class TemplateIn(Input):
    title: Title
    body: Body


class PreviewIn(Input):
    """A draft to preview; a field left out is taken from the saved template."""

    title: Title | None = None
    body: Body | None = None


class CorrectionIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    # Free text restated in the new notice (reason, redirect_to, opinion, basis, as the kind has them).
    changes: dict[Annotated[str, msgspec.Meta(max_length=40)], Body] = msgspec.field(default_factory=dict)


class NoticeLookupIn(LookupIn):
    pass
