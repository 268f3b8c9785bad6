"""The ``xinfang`` command: serve, worker, scheduler, migrate, demo, admin, run (the embedded stack)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings():
    from tenants.settings import SettingsError, get_settings

    try:
        return get_settings()
    except SettingsError as exc:
        hint = ""
        if "XINFANG_DATABASE_URL" in str(exc):
            hint = " (or start the embedded stack with `make run`: while it runs, xinfang commands read .xinfang/env)"
        print(f"xinfang: configuration error: {exc}{hint}", file=sys.stderr)
        raise SystemExit(2) from None


def use_stack_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """Without ``XINFANG_DATABASE_URL``, take the settings of a running embedded stack from the env file that
    ``xinfang run`` writes (``<data dir>/env``, removed when the stack stops); variables already set win.
    Returns the file used, if any."""
    if environ.get("XINFANG_DATABASE_URL"):
        return None
    from service.ops.embedded import ENV_FILE, read_env_file

    given = environ.get("XINFANG_DATA_DIR")
    # The data dir named, else the checkout's (``make run`` keeps it there) seen from here or from the repository.
    roots = [Path(given)] if given else [Path(".xinfang").resolve(), ROOT / ".xinfang"]
    for root in dict.fromkeys(roots):
        path = root / ENV_FILE
        if path.is_file():
            for key, value in read_env_file(path).items():
                environ.setdefault(key, value)
            return path
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.ops.logging import configure_logging

    settings = _settings()
    configure_logging(settings)  # uvicorn's own lines, the supervisor's included, in the service's format
    uvicorn.run(
        "service.http.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=settings.port if args.port is None else args.port,  # 0: any free port (uvicorn logs which)
        workers=args.workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _settings()
    argv = [
        sys.executable,
        "-m",
        "service.ops.worker",
        "service.ops.jobs",
        # Dramatiq's plain-text set-up is skipped: service.ops.worker configures the service's format.
        "--skip-logging",
        "--processes",
        str(args.processes),
        "--threads",
        str(args.threads),
    ]
    os.execv(sys.executable, argv)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from analytics.runtime.scheduler import Scheduler
    from service.ops import jobs  # noqa: F401  (registers relay handlers and periodic jobs)
    from service.ops.logging import configure_logging
    from tenants import crypto
    from tenants.db import Database

    settings = _settings()
    configure_logging(settings)
    crypto.configure(settings.data_key_bytes)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_settings(settings)
        try:
            await Scheduler(db, poll_seconds=settings.relay_poll_seconds).run(stop)
        finally:
            await db.dispose()

    asyncio.run(main())
    return 0


def migrate() -> None:
    from alembic.config import Config

    from alembic import command

    _settings()
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    command.upgrade(config, "heads")


def cmd_migrate(args: argparse.Namespace) -> int:
    migrate()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if getattr(args, "demo_action", None) == "generate":
        return cmd_demo_generate(args)
    from service.ops.demo import seed_demo
    from tenants import crypto
    from tenants.db import Database

    settings = _settings()
    crypto.configure(settings.data_key_bytes)

    path = Path(settings.data_dir) / "demo-credentials.json"
    known = json.loads(path.read_text()) if path.exists() else {}

    async def main() -> dict[str, object]:
        db = Database.from_settings(settings)
        try:
            return await seed_demo(db, known, story=True)
        finally:
            await db.dispose()

    creds = asyncio.run(main())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return 0


def cmd_demo_generate(args: argparse.Namespace) -> int:
    """Synthetic universities with a year of petitions and incidents (see ``service.ops.synthetic``)."""
    from datetime import date

    from service.ops.synthetic.generate import Report, Spec, generate
    from tenants import crypto
    from tenants.db import Database
    from tenants.errors import Conflict

    settings = _settings()
    crypto.configure(settings.data_key_bytes)
    spec = Spec(
        tenants=args.tenants,
        petitions=args.petitions,
        incidents=args.incidents if args.incidents is not None else args.petitions // 500,
        seed=args.seed,
        months=args.months,
        until=date.fromisoformat(args.until) if args.until else None,
        prefix=args.prefix,
        jobs=args.jobs,
    )

    async def main() -> Report:
        db = Database.from_settings(settings)
        try:
            return await generate(db, spec, data_key=settings.data_key_bytes, url=settings.app_url)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(main())
    except Conflict as exc:
        print(f"xinfang demo generate: refused: {exc} (choose another --prefix)", file=sys.stderr)
        return 1
    start, end = spec.window()
    print(
        json.dumps(
            {
                "universities": [u.slug for u in report.universities],
                "window": [start.isoformat(), end.isoformat()],
                "petitions": report.petitions,
                "journal_events": report.events,
                "seconds": round(report.seconds, 1),
            },
            indent=2,
        )
    )
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    from tenants import crypto, identity
    from tenants.db import Database

    settings = _settings()
    crypto.configure(settings.data_key_bytes)
    password = args.password or identity.generate_password()

    async def main() -> str:
        db = Database.from_settings(settings)
        try:
            async with db.transaction() as session:
                account = await identity.create_platform_account(
                    session, email=args.email, password=password, role=identity.Role.platform_admin
                )
                return await identity.create_platform_token(session, account, "cli")
        finally:
            await db.dispose()

    token = asyncio.run(main())
    print(f"platform admin {args.email}\n  password: {password}\n  token:    {token}")
    return 0


def cmd_tenant(args: argparse.Namespace) -> int:
    """Export, import or offboard one university over the privileged connection (operators only)."""
    import psycopg

    from service.ops import tenant_archive
    from tenants.settings import plain_url

    settings = _settings()
    key = settings.data_key_bytes
    with psycopg.connect(plain_url(settings.database_url), autocommit=True) as conn:
        try:
            if args.action == "export":
                manifest = tenant_archive.export_tenant(conn, args.tenant, Path(args.output), data_key=key)
                rows = {t["name"]: t["rows"] for t in manifest["tables"]}
            elif args.action == "import":
                rows = tenant_archive.import_tenant(conn, Path(args.archive), data_key=key)
            else:
                rows = tenant_archive.offboard_tenant(
                    conn, args.tenant, Path(args.archive), data_key=key, confirm=args.confirm
                )
        except tenant_archive.ArchiveError as exc:
            print(f"xinfang tenant {args.action}: refused: {exc}", file=sys.stderr)
            return 1
    print(json.dumps({"action": args.action, "rows": rows}, indent=2))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from service.ops.embedded import run_stack

    return run_stack()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xinfang", description="Xinfang 信訪: petitions and emergency plans")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the API (uvicorn)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("worker", help="run Dramatiq worker processes")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(fn=cmd_worker)
    sub.add_parser("scheduler", help="run the scheduler (journal relay and periodic work)").set_defaults(
        fn=cmd_scheduler
    )
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    p = sub.add_parser("demo", help="seed the demo university and write the credentials file")
    p.set_defaults(fn=cmd_demo)
    demo = p.add_subparsers(dest="demo_action")
    g = demo.add_parser("generate", help="synthetic universities with petitions and incidents (bulk COPY)")
    g.add_argument("--tenants", type=int, default=5, help="how many universities")
    g.add_argument("--petitions", type=int, default=10_000, help="petitions in all (spread over the universities)")
    g.add_argument("--incidents", type=int, default=None, help="incidents in all (default: 2 per 1,000 petitions)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--months", type=int, default=12, help="months of history before --until")
    g.add_argument("--until", help="first local day not generated (YYYY-MM-DD; default: first day of this month)")
    g.add_argument("--prefix", default="syn", help="slug prefix of the universities (syn-000, syn-001, ...)")
    g.add_argument("--jobs", type=int, default=1, help="processes that load universities in parallel")
    g.set_defaults(fn=cmd_demo)
    p = sub.add_parser("admin", help="create a platform admin and print a platform token")
    p.add_argument("--email", required=True)
    p.add_argument("--password")
    p.set_defaults(fn=cmd_admin)
    p = sub.add_parser("tenant", help="export, import or offboard one university (privileged XINFANG_DATABASE_URL)")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("export", help="write everything of one university to a .tar.gz archive")
    a.add_argument("tenant", help="the university's slug or id")
    a.add_argument("--output", required=True, help="the archive to write (.tar.gz)")
    a = actions.add_parser("import", help="load an archive into this installation (the university must not exist)")
    a.add_argument("archive")
    a = actions.add_parser("offboard", help="export the university, then delete all its rows")
    a.add_argument("tenant", help="the university's slug or id")
    a.add_argument("--archive", required=True, help="where the export is written before the deletion")
    a.add_argument("--confirm", required=True, help="the university's slug, repeated")
    p.set_defaults(fn=cmd_tenant)
    sub.add_parser("run", help="the embedded stack: database, migrations, demo, API, worker, scheduler").set_defaults(
        fn=cmd_run
    )
    args = parser.parse_args(argv)
    if args.command != "run":  # `run` starts its own stack
        use_stack_environment()
    return int(args.fn(args))


if __name__ == "__main__":
    raise SystemExit(main())
