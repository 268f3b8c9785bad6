"""A client generated from the OpenAPI document by openapi-python-client (as a mobile or integration team would)
does real work against the server over HTTP: a petitioner signs in (changing the issued password), submits a
petition, attaches a file, reads the public status with the lookup code; an admin subscribes a webhook."""

from __future__ import annotations

import asyncio
import importlib
import io
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.conftest import Seeded
from tests.contract.fuzzing import SCHEMATHESIS

pytestmark = pytest.mark.e2e

GENERATOR = SCHEMATHESIS.with_name("openapi-python-client")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def generate(document: bytes, workdir: Path, package: str) -> Any:
    """Generate the client package into ``workdir`` and import it."""
    (workdir / "openapi.json").write_bytes(document)
    (workdir / "config.yaml").write_text(f"project_name_override: {package}\npackage_name_override: {package}\n")
    process = await asyncio.create_subprocess_exec(
        str(GENERATOR),
        "generate",
        "--path",
        str(workdir / "openapi.json"),
        "--config",
        str(workdir / "config.yaml"),
        "--meta",
        "none",
        "--output-path",
        str(workdir / package),
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"PATH": str(GENERATOR.parent)},  # its ruff formatting step runs the project's ruff
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()[-5000:]
    sys.path.insert(0, str(workdir))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(workdir))


async def test_a_generated_client_signs_in_submits_attaches_reads_the_status_and_subscribes(
    seeded: Seeded, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=seeded.url, timeout=300) as http:
        document = (await http.get("/schema/openapi.json")).content
        email = f"student-{uuid.uuid4().hex[:8]}@{seeded.slug}.edu.cn"
        r = await http.post(
            "/api/v1/accounts",
            json={"email": email, "password": "issued-password-1", "role": "petitioner"},
            headers=seeded.headers["tenant_admin"],
        )
        assert r.status_code == 201, r.text
    package = f"xinfang_client_{uuid.uuid4().hex[:6]}"
    xf = await generate(document, tmp_path, package)
    api = f"{package}.api"
    login = importlib.import_module(f"{api}.auth.api_v1_auth_login_login")
    password = importlib.import_module(f"{api}.auth.api_v1_auth_password_change_password")
    submit = importlib.import_module(f"{api}.petitions.api_v1_petitions_submit")
    attach = importlib.import_module(f"{api}.petitions_public.api_v1t_slug_petitions_attachments_attach")
    status = importlib.import_module(f"{api}.petitions_public.api_v1t_slug_petitions_status_status")
    subscribe = importlib.import_module(f"{api}.webhooks.api_v1_webhooks_subscriptions_create")
    m = importlib.import_module(f"{package}.models")
    types = importlib.import_module(f"{package}.types")

    anonymous = xf.Client(base_url=seeded.url)
    pair = await login.asyncio(
        client=anonymous, body=m.Login(email=email, password="issued-password-1", tenant=seeded.slug)
    )
    assert isinstance(pair, m.TokenPair) and pair.password_change_required
    first = xf.AuthenticatedClient(base_url=seeded.url, token=pair.access_token)
    changed = await password.asyncio(
        client=first, body=m.PasswordChange(current_password="issued-password-1", new_password="my-own-password-2")
    )
    assert isinstance(changed, m.TokenPair) and not changed.password_change_required
    student = xf.AuthenticatedClient(base_url=seeded.url, token=changed.access_token)

    submitted = await submit.asyncio_detailed(
        client=student,
        body=m.SubmissionIn(
            kind=m.SubmissionInKind.COMPLAINT,
            category="dormitory",
            subject="宿舍热水",
            content="三号楼晚上没有热水。",
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert submitted.status_code == 201, submitted.content
    receipt = submitted.parsed
    assert isinstance(receipt, m.SubmittedOut) and receipt.tracking_number and receipt.lookup_code

    files = [types.File(payload=io.BytesIO(PNG), file_name="photo.png", mime_type="image/png")]
    body_class = next(getattr(m, n) for n in dir(m) if n.endswith("AttachmentsAttachBody"))
    attached = await attach.asyncio_detailed(
        seeded.slug,
        client=student,
        body=body_class(tracking_number=receipt.tracking_number, lookup_code=receipt.lookup_code, files=files),
    )
    assert attached.status_code == 201, attached.content

    public = await status.asyncio(
        seeded.slug,
        client=student,
        body=m.LookupIn(tracking_number=receipt.tracking_number, lookup_code=receipt.lookup_code),
    )
    assert isinstance(public, m.PublicStatus)
    assert public.tracking_number == receipt.tracking_number and public.state == "received"

    admin = xf.AuthenticatedClient(
        base_url=seeded.url, token=seeded.headers["tenant_admin"]["Authorization"].removeprefix("Bearer ")
    )
    created = await subscribe.asyncio_detailed(
        client=admin,
        body=m.SubscriptionCreate(url="http://127.0.0.1:9/hook", event_types=["petition.*"]),
    )
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, m.SubscriptionCreated) and created.parsed.secret.startswith("whsec_")
