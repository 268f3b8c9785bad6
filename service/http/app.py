"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ControllerRouterHandler

from analytics.runtime.broker import ensure_broker
from service.accounts import controllers as accounts
from service.auth import controllers as auth
from service.bureau import controllers as bureau
from service.console import errors as console_errors
from service.console import routes as console
from service.http import health, openapi
from service.http.body_errors import strict_request
from service.http.deps import provide_principal, provide_session
from service.http.errors import EXCEPTION_HANDLERS
from service.http.security import Authenticator, RateLimiter, RequestContextMiddleware
from service.incidents import controllers as incidents
from service.materials import controllers as materials
from service.notifications import controllers as notifications
from service.ops.logging import configure_logging
from service.org import controllers as org
from service.petitions import controllers as petitions
from service.petitions import open311
from service.petitions.notices import controllers as notices
from service.plans import controllers as plans
from service.platform import controllers as platform
from service.reception import controllers as reception
from service.reports import controllers as reports
from service.supervision import controllers as supervision
from service.warnings import controllers as warnings
from service.webhooks import catalogue
from service.webhooks.controllers import WebhookController
from tenants import crypto
from tenants.db import Database
from tenants.identity import Tokens
from tenants.settings import Settings, get_settings

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    health.health,
    health.ready,
    auth.AuthController,
    platform.PlatformController,
    accounts.AccountController,
    accounts.ApiKeyController,
    accounts.JournalController,
    org.OrgUnitController,
    org.PersonController,
    org.PostController,
    org.GroupController,
    org.OrgTransferController,
    materials.MaterialController,
    plans.PlanController,
    plans.TrainingController,
    petitions.PetitionController,
    petitions.PublicPetitionController,
    petitions.CategoryController,
    petitions.SettingsController,
    petitions.AccessLogController,
    petitions.ReplyTemplateController,
    notices.NoticeController,
    notices.PublicNoticeController,
    notices.NoticeTemplateController,
    notifications.NotificationController,
    notifications.PublicNotificationController,
    open311.Open311Controller,
    incidents.IncidentController,
    incidents.PublicIncidentController,
    supervision.SupervisionController,
    reception.ReceptionController,
    reception.PublicReceptionController,
    WebhookController,
    reports.ReportController,
    bureau.BureauController,
    warnings.WarningController,
]


@asynccontextmanager
async def app_resources(app: Litestar) -> AsyncIterator[None]:
    """The app's process resources (database pool, authenticator), opened at start-up, closed at shutdown."""
    settings: Settings = app.state.settings
    db = Database.from_settings(settings)
    app.state.db = db
    app.state.authenticator = Authenticator(db, app.state.tokens, settings)
    try:
        yield
    finally:
        await db.dispose()


def create_app(
    settings: Settings | None = None, *, extra_handlers: list[ControllerRouterHandler] | None = None
) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    crypto.configure(settings.data_key_bytes)

    def on_app_init(config: AppConfig) -> AppConfig:
        config.state.update(
            settings=settings,
            tokens=Tokens(
                settings.secret_key,
                access_ttl=settings.access_token_ttl,
                refresh_ttl=settings.refresh_token_ttl,
            ),
            rate_limiter=RateLimiter(),
            broker=ensure_broker(),
        )
        return config

    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, *console.routers(settings), PrometheusController, *(extra_handlers or [])],
        lifespan=[app_resources],
        on_app_init=[on_app_init],
        dependencies={
            "db_session": Provide(provide_session),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        # Request metrics are recorded by RequestContextMiddleware beside the access log (service/http/metrics.py).
        middleware=[RequestContextMiddleware()],
        # On the console's paths the same errors are pages in the user's language (service/console/errors.py).
        exception_handlers=console_errors.for_pages(EXCEPTION_HANDLERS),
        template_config=console.template_config(),
        before_request=strict_request,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Xinfang 信訪 API",
            version="0.1.0",
            description="Petitions and emergency-plan execution for universities. 高校信訪與應急預案執行平台。",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            webhooks=catalogue.openapi_webhooks(),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="JWT access token from /api/v1/auth/login",
                    ),
                    "apiKey": SecurityScheme(
                        type="apiKey",
                        name="X-API-Key",
                        security_scheme_in="header",
                        description="integrator API key (xfk_...) or platform token",
                    ),
                }
            ),
        ),
        debug=False,
    )
    openapi.install(app)
    return app
