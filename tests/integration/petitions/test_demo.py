from sqlalchemy import select

from service.ops.demo import seed_demo
from service.petitions.models import Category
from service.petitions.seed import DEMO_CATEGORIES, DEMO_PLACES
from tenants import tenancy


async def test_demo_university_gets_categories_and_an_open311_key(client, db):
    creds = await seed_demo(db, {})
    again = await seed_demo(db, creds)  # idempotent: nothing re-issued, nothing duplicated
    assert again["open311_api_key"] == creds["open311_api_key"]
    async with db.transaction() as session:
        tenant = await session.scalar(select(tenancy.Tenant).where(tenancy.Tenant.slug == creds["tenant_slug"]))
    async with db.transaction(tenant.id) as session:
        categories = (await session.scalars(select(Category).order_by(Category.position))).all()
    assert [c.code for c in categories] == [c[0] for c in DEMO_CATEGORIES]
    assert all(c.default_org_unit_id is not None for c in categories)  # each routed to a unit of the demo chart
    # Its campus places, once (the second seeding found them and left them).
    places = (await client.get(f"/api/v1/t/{creds['tenant_slug']}/places")).json()
    assert [p["code"] for p in places] == [p[0] for p in DEMO_PLACES]
    services = await client.get("/open311/v2/services.json", params={"jurisdiction_id": creds["tenant_slug"]})
    assert {"dormitory", "canteen", "campus-safety"} <= {s["service_code"] for s in services.json()}
    posted = await client.post(
        "/open311/v2/requests.json",
        data={
            "jurisdiction_id": creds["tenant_slug"],
            "api_key": creds["open311_api_key"],
            "service_code": "canteen",
            "description": "二食堂晚餐供应不足",
            "address_string": "二食堂",
        },
    )
    assert posted.status_code == 201, posted.text
