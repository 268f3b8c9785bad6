"""HTTP for written notices: staff read and correct a petition's notices, the petitioner downloads them with the
tracking number and lookup code, a university reads, edits and previews its templates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from service.http.deps import Caller, Session
from service.http.guards import OFFICE, PUBLIC, STAFF, STAFF_OR_READER
from service.petitions import services as petitions
from service.petitions.controllers import by_lookup_code
from service.petitions.notices import schemas as s
from service.petitions.notices import services
from service.petitions.notices.models import Notice
from tenants.errors import NotFound
from tenants.identity import Principal
from tenants.plans.document import MEDIA_TYPES

Lang = Annotated[Literal["zh-CN", "en"], QueryParameter(description="the notice's language")]
EDIT = OFFICE  # the petition office and the university's admin


def _file(name: str) -> tuple[uuid.UUID, str]:
    """``<notice id>.pdf`` or ``<notice id>.docx``."""
    stem, _, fmt = name.rpartition(".")
    try:
        notice_id = uuid.UUID(stem)
    except ValueError:
        raise NotFound("no such notice") from None
    if fmt not in services.FORMATS:
        raise NotFound(f"no format {fmt!r}; one of {list(services.FORMATS)}")
    return notice_id, fmt


async def _download(notice: Notice, lang: str, fmt: str) -> Response[bytes]:
    # Rendering a PDF takes most of a second of CPU (font subsetting): keep it off the event loop.
    body = await asyncio.to_thread(services.render, notice.content[lang], lang, fmt)
    filename = f"notice-{notice.year}-{notice.seq:04d}-{lang}.{fmt}"
    return Response(
        body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def _readable(session: Session, petition_id: uuid.UUID, principal: Principal) -> Any:
    """The petition through the caller's scope (notices carry no personal data: reading it is enough)."""
    petition, _ = await petitions.find_petition(session, petition_id, principal)
    return petition


async def _listed(session: Session, petition_id: uuid.UUID) -> list[s.NoticeOut]:
    replaced = await services.replaced_ids(session, petition_id)
    return [s.NoticeOut.of(n, replaced.get(n.id)) for n in await services.list_notices(session, petition_id)]


class NoticeController(Controller):
    path = "/api/v1/petitions/{petition_id:uuid}/notices"
    tags = ["petitions"]

    @get("/", summary="The written notices issued on a petition, oldest first", **STAFF_OR_READER)
    async def list(self, petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> list[s.NoticeOut]:
        await _readable(db_session, petition_id, principal)
        return await _listed(db_session, petition_id)

    @get(
        "/{file:str}",
        summary="Download a notice: <id>.pdf or <id>.docx, ?lang=zh-CN|en",
        produces=("pdf", "docx"),
        **STAFF_OR_READER,
    )
    async def download(
        self,
        petition_id: FromPath[uuid.UUID],
        file: FromPath[str],
        db_session: Session,
        principal: Caller,
        lang: Lang = "zh-CN",
    ) -> Response[bytes]:
        await _readable(db_session, petition_id, principal)
        notice_id, fmt = _file(file)
        return await _download(await services.get_notice(db_session, petition_id, notice_id), lang, fmt)

    @post(
        "/{notice_id:uuid}/corrections",
        summary="Correct a notice: a new notice, numbered anew, that names the one it replaces",
        **OFFICE,
    )
    async def correct(
        self,
        petition_id: FromPath[uuid.UUID],
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[s.CorrectionIn],
        db_session: Session,
        principal: Caller,
    ) -> s.NoticeOut:
        petition = await _readable(db_session, petition_id, principal)
        notice = await services.correct(
            db_session,
            petition,
            notice_id,
            reason=data.reason,
            changes=dict(data.changes),
            actor_id=principal.subject_id,
        )
        return s.NoticeOut.of(notice)


class PublicNoticeController(Controller):
    """The petitioner's copies, by tracking number and lookup code (POST: the code stays out of URLs and logs)."""

    path = "/api/v1/t/{slug:str}/petitions/notices"
    tags = ["petitions (public)"]

    @post("/", summary="The notices issued on my petition (tracking number and lookup code)", status_code=200, **PUBLIC)
    async def list(
        self,
        slug: FromPath[str],
        data: JSONBody[s.NoticeLookupIn],
        db_session: Session,
        state: State,
        request: Request[Any, Any, Any],
    ) -> list[s.NoticeOut]:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        return await _listed(db_session, petition.id)

    @post(
        "/{file:str}",
        summary="Download one of my notices: <id>.pdf or <id>.docx",
        status_code=200,
        produces=("pdf", "docx"),
        **PUBLIC,
    )
    async def download(
        self,
        slug: FromPath[str],
        file: FromPath[str],
        data: JSONBody[s.NoticeLookupIn],
        db_session: Session,
        state: State,
        request: Request[Any, Any, Any],
        lang: Lang = "zh-CN",
    ) -> Response[bytes]:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        notice_id, fmt = _file(file)
        return await _download(await services.get_notice(db_session, petition.id, notice_id), lang, fmt)


class NoticeTemplateController(Controller):
    path = "/api/v1/notice-templates"
    tags = ["petitions"]

    @get("/", summary="Every notice template (kind x language): the university's own or the default", **STAFF)
    async def list(self, db_session: Session) -> list[s.TemplateOut]:
        return [s.TemplateOut.of(x) for x in await services.list_templates(db_session)]

    @get("/{kind:str}/{lang:str}", summary="One notice template, with the placeholders it may use", **STAFF)
    async def show(self, kind: FromPath[str], lang: FromPath[str], db_session: Session) -> s.TemplateOut:
        return s.TemplateOut.of(await services.get_template(db_session, kind, lang))

    @put("/{kind:str}/{lang:str}", summary="Change a notice template (unknown placeholders refused)", **EDIT)
    async def update(
        self,
        kind: FromPath[str],
        lang: FromPath[str],
        data: JSONBody[s.TemplateIn],
        db_session: Session,
        principal: Caller,
    ) -> s.TemplateOut:
        saved = await services.save_template(
            db_session, kind, lang, title=data.title, body=data.body, actor_id=principal.subject_id
        )
        return s.TemplateOut.of(saved)

    @delete("/{kind:str}/{lang:str}", summary="Return a notice template to the default", status_code=204, **EDIT)
    async def reset(self, kind: FromPath[str], lang: FromPath[str], db_session: Session, principal: Caller) -> None:
        await services.reset_template(db_session, kind, lang, actor_id=principal.subject_id)

    @post(
        "/{kind:str}/{lang:str}/preview",
        summary="Render a template (saved, or a draft) with sample data; nothing is issued",
        status_code=200,
        **STAFF,
    )
    async def preview(
        self,
        kind: FromPath[str],
        lang: FromPath[str],
        data: JSONBody[s.PreviewIn],
        db_session: Session,
        format: Annotated[Literal["pdf", "docx"], QueryParameter()] = "pdf",
    ) -> Response[bytes]:
        # Validated and composed here, rendered off the event loop.
        content = await services.preview_content(db_session, kind, lang, title=data.title, body=data.body)
        body = await asyncio.to_thread(services.render, content, lang, format)
        return Response(body, media_type=MEDIA_TYPES[format])
