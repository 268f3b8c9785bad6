"""The organization chart API: org units (tree), people, emergency groups, bulk import and export."""

from __future__ import annotations

import asyncio
import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.http.deps import Caller, Input, Page, Session
from service.http.security import requires
from tenants import org, org_transfer, paging
from tenants.errors import Invalid
from tenants.identity import Principal, Role
from tenants.org import EmergencyGroup, GroupMember, MemberRole, OrgUnit, Person, UnitKind

# Staff read the chart; tenant admins change it. Integrators with ``org:read`` see units and groups, not people.
READ = requires(Role.tenant_admin, Role.staff, scopes=("org:read",))
READ_PEOPLE = requires(Role.tenant_admin, Role.staff, scopes=("people:read",))
EDIT = requires(Role.tenant_admin)
MAX_IMPORT_BYTES = 64 * 1024 * 1024

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Title = Annotated[str, msgspec.Meta(max_length=200)]
Duties = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Post = Annotated[str, msgspec.Meta(max_length=500)]
GroupKey = Annotated[str, msgspec.Meta(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


# --- bodies -----------------------------------------------------------------------------------------------------


class UnitCreate(Input):
    kind: UnitKind
    code: Code
    name_zh: Name
    name_en: Name
    parent_id: uuid.UUID | None = None


class UnitRename(Input):
    name_zh: Name | None = None
    name_en: Name | None = None


class UnitMove(Input):
    parent_id: uuid.UUID


class UnitOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    code: str
    name_zh: str
    name_en: str
    parent_id: uuid.UUID | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, u: OrgUnit) -> UnitOut:
        return cls(u.id, u.kind, u.code, u.name_zh, u.name_en, u.parent_id, u.active, u.created_at, u.updated_at)


class UnitNode(msgspec.Struct):
    id: uuid.UUID
    kind: str
    code: str
    name_zh: str
    name_en: str
    active: bool
    children: list[UnitNode]


class PersonCreate(Input):
    staff_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name_zh: PersonName
    unit_id: uuid.UUID
    name_en: PersonName | None = None
    title_zh: Title | None = None
    title_en: Title | None = None
    account_id: uuid.UUID | None = None


class PersonUpdate(Input):
    name_zh: PersonName | msgspec.UnsetType = msgspec.UNSET
    name_en: PersonName | msgspec.UnsetType = msgspec.UNSET
    title_zh: Title | msgspec.UnsetType = msgspec.UNSET
    title_en: Title | msgspec.UnsetType = msgspec.UNSET
    unit_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    account_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class PersonOut(msgspec.Struct):
    id: uuid.UUID
    staff_number: str
    name_zh: str
    name_en: str | None
    title_zh: str | None
    title_en: str | None
    unit_id: uuid.UUID
    account_id: uuid.UUID | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls(
            p.id,
            p.staff_number,
            p.name_zh,
            p.name_en,
            p.title_zh,
            p.title_en,
            p.unit_id,
            p.account_id,
            p.active,
            p.created_at,
            p.updated_at,
        )


class GroupCreate(Input):
    key: GroupKey
    name_zh: Name
    name_en: Name
    duties_zh: Duties
    duties_en: Duties
    leader_post_zh: Post | None = None
    leader_post_en: Post | None = None
    deputy_posts_zh: Post | None = None
    deputy_posts_en: Post | None = None
    member_posts_zh: Post | None = None
    member_posts_en: Post | None = None


class GroupUpdate(Input):
    name_zh: Name | msgspec.UnsetType = msgspec.UNSET
    name_en: Name | msgspec.UnsetType = msgspec.UNSET
    duties_zh: Duties | msgspec.UnsetType = msgspec.UNSET
    duties_en: Duties | msgspec.UnsetType = msgspec.UNSET
    leader_post_zh: Post | msgspec.UnsetType | None = msgspec.UNSET
    leader_post_en: Post | msgspec.UnsetType | None = msgspec.UNSET
    deputy_posts_zh: Post | msgspec.UnsetType | None = msgspec.UNSET
    deputy_posts_en: Post | msgspec.UnsetType | None = msgspec.UNSET
    member_posts_zh: Post | msgspec.UnsetType | None = msgspec.UNSET
    member_posts_en: Post | msgspec.UnsetType | None = msgspec.UNSET


class MemberAdd(Input):
    person_id: uuid.UUID
    role: MemberRole


class MemberRoleChange(Input):
    role: MemberRole


class MemberOut(msgspec.Struct):
    person_id: uuid.UUID
    role: str
    # Names and titles need the people:read scope (an org:read key sees who is a member by id only).
    name_zh: str | None
    name_en: str | None
    title_zh: str | None
    title_en: str | None
    unit_id: uuid.UUID
    active: bool

    @classmethod
    def of(cls, m: GroupMember, p: Person, *, names: bool = True) -> MemberOut:
        if not names:
            return cls(p.id, m.role, None, None, None, None, p.unit_id, p.active)
        return cls(p.id, m.role, p.name_zh, p.name_en, p.title_zh, p.title_en, p.unit_id, p.active)


def sees_people(principal: Principal) -> bool:
    """Accounts that may read the chart see names; an API key needs the people:read scope."""
    return principal.kind != "api_key" or "people:read" in principal.scopes


class GroupOut(msgspec.Struct):
    id: uuid.UUID
    key: str
    name_zh: str
    name_en: str
    duties_zh: str
    duties_en: str
    leader_post_zh: str | None
    leader_post_en: str | None
    deputy_posts_zh: str | None
    deputy_posts_en: str | None
    member_posts_zh: str | None
    member_posts_en: str | None
    members: list[MemberOut] | None = None

    @classmethod
    def of(cls, g: EmergencyGroup, members: list[MemberOut] | None = None) -> GroupOut:
        return cls(
            g.id,
            g.key,
            g.name_zh,
            g.name_en,
            g.duties_zh,
            g.duties_en,
            g.leader_post_zh,
            g.leader_post_en,
            g.deputy_posts_zh,
            g.deputy_posts_en,
            g.member_posts_zh,
            g.member_posts_en,
            members,
        )


class ImportOut(msgspec.Struct):
    units_created: int
    units_updated: int
    people_created: int
    people_updated: int


def _changes(data: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, as keyword arguments of the domain's update function (of the same names)."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}


# --- controllers ------------------------------------------------------------------------------------------------


class OrgUnitController(Controller):
    path = "/api/v1/org/units"
    tags = ["org chart"]

    @post("/", summary="Create an org unit (the university root has no parent)", **EDIT)
    async def create(self, data: JSONBody[UnitCreate], db_session: Session, principal: Caller) -> UnitOut:
        unit = await org.create_unit(db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data))
        return UnitOut.of(unit)

    @get("/", summary="List org units by code, with filters", **READ)
    async def list(
        self,
        db_session: Session,
        kind: FromQuery[UnitKind | None] = None,
        active: FromQuery[bool | None] = None,
        parent_id: FromQuery[uuid.UUID | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, description="part of the code or a name")] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page[UnitOut]:
        rows, after = await paging.page(
            lambda n: org.list_units(
                db_session, kind=kind, active=active, parent_id=parent_id, q=q, after_code=cursor, limit=n
            ),
            limit,
            key=lambda u: u.code,
        )
        return Page([UnitOut.of(u) for u in rows], after)

    @get("/tree", summary="The chart as a tree from the university root", **READ)
    async def tree(self, db_session: Session, include_inactive: FromQuery[bool] = False) -> builtins.list[UnitNode]:
        units = await org.all_units(db_session, include_inactive=include_inactive)
        nodes = {u.id: UnitNode(u.id, u.kind, u.code, u.name_zh, u.name_en, u.active, []) for u in units}
        roots: builtins.list[UnitNode] = []
        for u in units:
            parent = nodes.get(u.parent_id) if u.parent_id else None
            (parent.children if parent else roots).append(nodes[u.id])
        return roots

    @get("/{unit_id:uuid}", summary="Show an org unit", **READ)
    async def show(self, unit_id: FromPath[uuid.UUID], db_session: Session) -> UnitOut:
        return UnitOut.of(await org.get_unit(db_session, unit_id))

    @patch("/{unit_id:uuid}", summary="Rename an org unit", **EDIT)
    async def rename(
        self, unit_id: FromPath[uuid.UUID], data: JSONBody[UnitRename], db_session: Session, principal: Caller
    ) -> UnitOut:
        unit = await org.rename_unit(
            db_session, unit_id, name_zh=data.name_zh, name_en=data.name_en, actor_id=principal.subject_id
        )
        return UnitOut.of(unit)

    @post("/{unit_id:uuid}/move", summary="Move a unit below another parent (cycles refused)", status_code=200, **EDIT)
    async def move(
        self, unit_id: FromPath[uuid.UUID], data: JSONBody[UnitMove], db_session: Session, principal: Caller
    ) -> UnitOut:
        unit = await org.move_unit(db_session, unit_id, parent_id=data.parent_id, actor_id=principal.subject_id)
        return UnitOut.of(unit)

    @post("/{unit_id:uuid}/deactivate", summary="Deactivate a unit (kept for history)", status_code=200, **EDIT)
    async def deactivate(self, unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> UnitOut:
        return UnitOut.of(await org.deactivate_unit(db_session, unit_id, actor_id=principal.subject_id))


class PersonController(Controller):
    path = "/api/v1/org/people"
    tags = ["org chart"]

    @post("/", summary="Add a person (staff) to the chart", **EDIT)
    async def create(self, data: JSONBody[PersonCreate], db_session: Session, principal: Caller) -> PersonOut:
        person = await org.create_person(db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data))
        return PersonOut.of(person)

    @get("/", summary="List people (by unit, staff number, account)", **READ_PEOPLE)
    async def list(
        self,
        db_session: Session,
        unit_id: FromQuery[uuid.UUID | None] = None,
        include_subunits: FromQuery[bool] = False,
        active: FromQuery[bool | None] = None,
        staff_number: Annotated[str | None, QueryParameter(max_length=64)] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page[PersonOut]:
        rows, after = await paging.page(
            lambda n: org.list_people(
                db_session,
                unit_id=unit_id,
                include_subunits=include_subunits,
                active=active,
                staff_number=staff_number,
                account_id=account_id,
                after_id=cursor,
                limit=n,
            ),
            limit,
            key=lambda p: str(p.id),
        )
        return Page([PersonOut.of(p) for p in rows], after)

    @get("/{person_id:uuid}", summary="Show a person", **READ_PEOPLE)
    async def show(self, person_id: FromPath[uuid.UUID], db_session: Session) -> PersonOut:
        return PersonOut.of(await org.get_person(db_session, person_id))

    @patch("/{person_id:uuid}", summary="Change a person's names, title, unit, account link or activity", **EDIT)
    async def update(
        self, person_id: FromPath[uuid.UUID], data: JSONBody[PersonUpdate], db_session: Session, principal: Caller
    ) -> PersonOut:
        person = await org.update_person(db_session, person_id, actor_id=principal.subject_id, **_changes(data))
        return PersonOut.of(person)


class PostIn(Input):
    unit_id: uuid.UUID
    title_zh: Title | None = None
    title_en: Title | None = None


class PostOut(msgspec.Struct):
    person_id: uuid.UUID
    unit_id: uuid.UUID
    title_zh: str | None
    title_en: str | None
    created_at: datetime

    @classmethod
    def of(cls, p: org.PersonPost) -> PostOut:
        return cls(p.person_id, p.unit_id, p.title_zh, p.title_en, p.created_at)


class PostController(Controller):
    """A person's secondary posts (兼职): further units for the accounts linked to the person (petition scope)."""

    path = "/api/v1/org/people/{person_id:uuid}/posts"
    tags = ["org chart"]

    @get("/", summary="A person's secondary posts", **READ_PEOPLE)
    async def list(self, person_id: FromPath[uuid.UUID], db_session: Session) -> list[PostOut]:
        return [PostOut.of(p) for p in await org.list_posts(db_session, person_id)]

    @post("/", summary="Give a person a secondary post in another unit", **EDIT)
    async def add(
        self, person_id: FromPath[uuid.UUID], data: JSONBody[PostIn], db_session: Session, principal: Caller
    ) -> PostOut:
        post_ = await org.add_post(
            db_session,
            person_id,
            unit_id=data.unit_id,
            title_zh=data.title_zh,
            title_en=data.title_en,
            actor_id=principal.subject_id,
        )
        return PostOut.of(post_)

    @delete("/{unit_id:uuid}", summary="End a person's secondary post in a unit", status_code=204, **EDIT)
    async def remove(
        self, person_id: FromPath[uuid.UUID], unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> None:
        await org.remove_post(db_session, person_id, unit_id, actor_id=principal.subject_id)


class GroupController(Controller):
    path = "/api/v1/org/groups"
    tags = ["org chart"]

    @get("/", summary="The emergency groups with their members", **READ)
    async def list(self, db_session: Session, principal: Caller) -> list[GroupOut]:
        groups = await org.list_groups(db_session)
        names = sees_people(principal)
        return [
            GroupOut.of(g, [MemberOut.of(m, p, names=names) for m, p in await org.group_members(db_session, g.id)])
            for g in groups
        ]

    @post("/", summary="Create a custom emergency group", **EDIT)
    async def create(self, data: JSONBody[GroupCreate], db_session: Session, principal: Caller) -> GroupOut:
        fields = msgspec.structs.asdict(data)
        group = await org.create_group(db_session, actor_id=principal.subject_id, **fields)
        return GroupOut.of(group, [])

    @get("/{key:str}", summary="Show an emergency group with its members", **READ)
    async def show(self, key: FromPath[str], db_session: Session, principal: Caller) -> GroupOut:
        group = await org.get_group(db_session, key)
        names = sees_people(principal)
        members = await org.group_members(db_session, group.id)
        return GroupOut.of(group, [MemberOut.of(m, p, names=names) for m, p in members])

    @patch("/{key:str}", summary="Change a group's names, duties or posts", **EDIT)
    async def update(
        self, key: FromPath[str], data: JSONBody[GroupUpdate], db_session: Session, principal: Caller
    ) -> GroupOut:
        group = await org.update_group(db_session, key, actor_id=principal.subject_id, **_changes(data))
        return GroupOut.of(group, [MemberOut.of(m, p) for m, p in await org.group_members(db_session, group.id)])

    @post("/{key:str}/members", summary="Add a person as leader, deputy or member", **EDIT)
    async def add_member(
        self, key: FromPath[str], data: JSONBody[MemberAdd], db_session: Session, principal: Caller
    ) -> MemberOut:
        member = await org.add_member(
            db_session, key, person_id=data.person_id, role=data.role, actor_id=principal.subject_id
        )
        return MemberOut.of(member, await org.get_person(db_session, data.person_id))

    @patch("/{key:str}/members/{person_id:uuid}", summary="Change a member's role", **EDIT)
    async def change_role(
        self,
        key: FromPath[str],
        person_id: FromPath[uuid.UUID],
        data: JSONBody[MemberRoleChange],
        db_session: Session,
        principal: Caller,
    ) -> MemberOut:
        member = await org.change_member_role(
            db_session, key, person_id=person_id, role=data.role, actor_id=principal.subject_id
        )
        return MemberOut.of(member, await org.get_person(db_session, person_id))

    @delete("/{key:str}/members/{person_id:uuid}", summary="Remove a member", status_code=204, **EDIT)
    async def remove_member(
        self, key: FromPath[str], person_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> None:
        await org.remove_member(db_session, key, person_id=person_id, actor_id=principal.subject_id)


ExportFormat = Literal["csv", "xlsx"]
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _file(name: str, fmt: ExportFormat, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Response[bytes]:
    content = (
        org_transfer.write_csv(columns, rows) if fmt == "csv" else org_transfer.write_xlsx({name: (columns, rows)})
    )
    return Response(
        content,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


async def import_uploads(
    session: AsyncSession, uploads: Mapping[str, Any], *, actor_id: uuid.UUID | None
) -> org_transfer.ImportSummary:
    """Read the ``units`` and ``people`` files of a multipart upload and import them (all or nothing), for the
    API and the console alike; an empty file field of a browser's form counts as not sent."""
    tables = {}
    for name in ("units", "people"):
        upload = uploads.get(name)
        if upload is None or upload in ("", b""):
            continue  # not sent, or a browser form's file field left empty
        if not isinstance(upload, UploadFile):
            raise Invalid("expected a file", errors=[{"field": name, "message": "upload a CSV or XLSX file"}])
        content = await upload.read()
        if not content and not upload.filename:
            continue
        # Parsing a large workbook takes a while: keep the event loop free for other requests.
        tables[name] = await asyncio.to_thread(org_transfer.read_table, content, name=name)
    return await org_transfer.import_org(
        session, units=tables.get("units"), people=tables.get("people"), actor_id=actor_id
    )


async def export_file(session: AsyncSession, what: Literal["units", "people"], fmt: ExportFormat) -> Response[bytes]:
    """Every unit or every person as a CSV or XLSX download (the import's format), for the API and the console."""
    if what == "units":
        return _file("units", fmt, org_transfer.UNIT_COLUMNS, await org_transfer.export_units(session))
    return _file("people", fmt, org_transfer.PERSON_COLUMNS, await org_transfer.export_people(session))


class OrgTransferController(Controller):
    path = "/api/v1/org"
    tags = ["org chart"]

    @post(
        "/import",
        summary="Import units and/or people from CSV or XLSX files (all or nothing; every bad row listed)",
        description=(
            "multipart/form-data with a `units` and/or a `people` file, each CSV or XLSX (in a workbook the sheet "
            "named like the part is read, else the first). Units columns: code, kind, name_zh, name_en, "
            "parent_code, active. People columns: staff_number, name_zh, name_en, title_zh, title_en, unit_code, "
            "account_email, active. Rows are matched by unit code and staff number (created or updated)."
        ),
        status_code=200,
        media="multipart",
        form={"fields": {"units": "file", "people": "file"}, "min_properties": 1},
        request_max_body_size=MAX_IMPORT_BYTES,
        **EDIT,
    )
    async def import_(
        self,
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: Session,
        principal: Caller,
    ) -> ImportOut:
        unknown = sorted(set(data) - {"units", "people"})
        if unknown:
            raise Invalid(
                "unknown upload parts",
                errors=[{"field": k, "message": "expected only 'units' and 'people' files"} for k in unknown],
            )
        summary = await import_uploads(db_session, data, actor_id=principal.subject_id)
        return ImportOut(**vars(summary))

    @get("/export/units", summary="Export every unit as CSV or XLSX (the import's format)", **EDIT)
    async def export_units(self, db_session: Session, format: FromQuery[ExportFormat] = "csv") -> Response[bytes]:
        return await export_file(db_session, "units", format)

    @get("/export/people", summary="Export every person as CSV or XLSX (personal data: admins only)", **EDIT)
    async def export_people(self, db_session: Session, format: FromQuery[ExportFormat] = "csv") -> Response[bytes]:
        return await export_file(db_session, "people", format)
