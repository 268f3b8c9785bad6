"""An independent Open311 client library (``georeport``, which reads only) against the real server over HTTP."""

import asyncio
import socket

import httpx
import pytest
import uvicorn
from georeport import GeoReport

from tests.support.casework import University

pytestmark = pytest.mark.e2e


@pytest.fixture
async def server(settings):
    from service.http.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(srv.serve())
    for _ in range(200):  # uvicorn exposes a flag, not an event
        if srv.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_georeport_client_reads_what_was_posted(server, client, uni: University, fmt):
    key = (await client.post("/api/v1/api-keys", json={"name": "311", "scopes": ["open311"]}, headers=uni.admin)).json()
    async with httpx.AsyncClient(base_url=server) as http:
        posted = await http.post(
            f"/open311/v2/requests.{fmt}",
            data={
                "jurisdiction_id": uni.slug,
                "api_key": key["secret"],
                "service_code": "canteen",
                "description": "食堂排队时间太长",
                "lat": "23.1",
                "long": "113.3",
            },
        )
    assert posted.status_code == 201, posted.text
    geo = GeoReport(f"{server}/open311/v2", jurisdiction=uni.slug, output_format=fmt)
    services = await asyncio.to_thread(geo.get_service_list)
    assert {s["service_code"] for s in services} == {"dormitory", "canteen"}
    definition = await asyncio.to_thread(geo.get_service_definition, "canteen")
    assert definition["service_code"] == "canteen"
    requests_ = await asyncio.to_thread(geo.get_service_requests, service_code="canteen", status="open")
    requests_ = requests_ if isinstance(requests_, list) else [requests_]  # xmltodict: one element is a dict
    [mine] = requests_
    assert mine["status"] == "open" and mine["service_code"] == "canteen"
    one = await asyncio.to_thread(geo.get_service_request, mine["service_request_id"])
    assert one["service_request_id"] == mine["service_request_id"] and one["expected_datetime"]
