"""The console's routes, templates and static files, as the app factory mounts them."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service.console.account import AccountController
from service.console.admin_accounts import AdminAccountController
from service.console.admin_org import AdminOrgController
from service.console.admin_settings import AdminSettingsController
from service.console.command import CommandController
from service.console.evaluation import BureauPageController, DashboardController, ReportPageController
from service.console.incidents import IncidentController, MyTasksController, WarningPageController
from service.console.materials import MaterialPageController
from service.console.notifications import NotificationPageController
from service.console.office import OfficeController
from service.console.plan import PlanPageController
from service.console.platform import PlatformController, PlatformLoginController
from service.console.session import ConsoleSession
from service.console.staff import StaffController
from service.console.student import StudentController
from service.console.webhooks import WebhookPageController
from tenants.settings import Settings

HERE = Path(__file__).parent
CSRF_COOKIE = "xf_csrf"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def routers(settings: Settings) -> list[Router]:
    """The console (``/console``) and the student's pages (``/t/{slug}``), with CSRF protection on every form
    (a double-submit cookie checked against the form's ``_csrf_token``), and the static files."""
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.env != "development",
        cookie_httponly=True,
        cookie_samesite="strict",
    )
    pages = Router(
        path="/",
        route_handlers=[
            AccountController,
            StaffController,
            IncidentController,
            WarningPageController,
            # emergency command
            CommandController,
            MyTasksController,
            NotificationPageController,
            StudentController,
            OfficeController,  # petition office
            PlatformLoginController,  # platform admins
            PlatformController,
            # the admin's emergency plan, materials and webhooks
            PlanPageController,
            MaterialPageController,
            WebhookPageController,
            # evaluation
            ReportPageController,
            DashboardController,
            BureauPageController,
            # the university's administration (tenant admins)
            AdminOrgController,
            AdminAccountController,
            AdminSettingsController,
        ],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf), ConsoleSession()],
        # Forms are url-encoded or multipart: the API's JSON-only media check does not apply here.
        opt={"media": "any"},
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/console/static", directories=[HERE / "static"], include_in_schema=False, opt={"media": "any"}
    )
    return [pages, static]
