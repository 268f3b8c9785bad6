"""Who may call a route: the role and scope guards every domain's controllers use, and the OpenAPI security of
public routes."""

from __future__ import annotations

from typing import Any

from service.http.security import requires
from tenants.identity import Role

ANY_ACCOUNT = requires(Role.petitioner, Role.staff, Role.petition_officer, Role.tenant_admin)
# A university's own app backend submits for its signed-in users with a petitions:write key (channel recorded;
# a named petition carries the petitioner's name, as on the public route).
SUBMITTER = requires(Role.petitioner, Role.staff, Role.petition_officer, Role.tenant_admin, scopes=("petitions:write",))
STAFF = requires(Role.staff, Role.petition_officer, Role.tenant_admin)
STAFF_OR_READER = requires(Role.staff, Role.petition_officer, Role.tenant_admin, scopes=("petitions:read",))
# The petition office (and the university's admin): notices' corrections and templates.
OFFICE = requires(Role.petition_officer, Role.tenant_admin)
# Any account of the university or a reading key: the scope policy decides what each one sees (404 otherwise).
ANY_OR_READER = requires(
    Role.petitioner, Role.staff, Role.petition_officer, Role.tenant_admin, scopes=("petitions:read",)
)
ADMIN = requires(Role.tenant_admin)
# Public routes: anonymous callers welcome (OpenAPI: no credentials, or a bearer token).
PUBLIC: dict[str, Any] = {"security": [{}, {"bearer": []}]}
