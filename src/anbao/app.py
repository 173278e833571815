"""create_app(): the FastAPI application: routers, error mapping, static web UI, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, StatementError

from anbao import __version__, wiring
from anbao.account.views import router as account_router
from anbao.alert.cap_views import router as cap_router
from anbao.alert.flows import Watcher
from anbao.alert.views import router as alert_router
from anbao.api.deps import reject_unknown_query
from anbao.api.guards import BodyLimit, SecurityHeaders, WebFiles, check_parameters
from anbao.api.static import package_version, static_app
from anbao.config import Settings, get_settings
from anbao.core import audit, events
from anbao.core.auth import LoginRateLimiter, TrustedProxies, keep_tokens_out_of_logs, parse_networks
from anbao.core.broker_bus import BrokerBus, uses_broker
from anbao.core.bus import InProcessBus
from anbao.core.db import lock_timeout, make_engine, make_sessionmaker, unavailable
from anbao.core.errors import AnBaoError
from anbao.core.lease import AdvisoryLease
from anbao.core.time import NaiveDatetimeError
from anbao.crowd.flows import Runs
from anbao.crowd.views import router as crowd_router
from anbao.dispatch.views import router as dispatch_router
from anbao.documents.views import router as documents_router
from anbao.event.views import router as event_router
from anbao.incident.views import router as incident_router
from anbao.live.ui_views import router as ui_router
from anbao.live.views import router as live_router
from anbao.live.zone_views import router as zone_router
from anbao.org.views import router as org_router
from anbao.plan.views import router as plan_router
from anbao.response.views import router as response_router
from anbao.review.views import router as review_router
from anbao.risk.views import router as risk_router
from anbao.sensing.mqtt_ingest import consume
from anbao.sensing.views import router as sensing_router
from anbao.system.views import router as system_router
from anbao.venue.views import router as venue_router

log = logging.getLogger("anbao")
WEB_DIR = Path(__file__).parent / "web"
SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"
#: front-end libraries installed from npm (``make install`` runs ``npm ci`` in the web folder)
VENDOR_DIRS = {"leaflet": WEB_DIR / "node_modules" / "leaflet" / "dist",
               "echarts": WEB_DIR / "node_modules" / "echarts" / "dist"}

DESCRIPTION = """AnBao 安保: command platform for police security of large public events.

Log in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <token>`.
Errors: 401 not logged in, 403 missing permission, 404 not found (or not shared with a partner),
409 conflict, 422 bad input (`detail[].loc` names the field), 429 too many failed logins.
"""


def _problem(status: int, msg: str, loc: list[Any] | None = None, kind: str = "value_error") -> JSONResponse:
    if status == 422:
        return JSONResponse({"detail": [{"loc": loc or ["body"], "msg": msg, "type": kind}]}, status_code=422)
    return JSONResponse({"detail": msg}, status_code=status,
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnBaoError)
    async def domain_error(_req: Request, exc: AnBaoError) -> JSONResponse:
        response = _problem(exc.status, exc.message, exc.loc)
        if getattr(exc, "retry_after_s", None) is not None:  # 503 database busy
            response.headers["Retry-After"] = str(exc.retry_after_s)  # type: ignore[attr-defined]
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(NaiveDatetimeError)
    async def naive_time(_req: Request, exc: NaiveDatetimeError) -> JSONResponse:
        return _problem(422, str(exc))

    @app.exception_handler(IntegrityError)
    async def integrity(_req: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return _problem(409, "conflicts with a row stored at the same time (duplicate code or stale reference); "
                             "reload and retry")

    # last resorts: the input checks (core/schemas.py, api/guards.py) keep these from happening; a value the
    # storage cannot hold is still bad input (422), never a server error
    @app.exception_handler(StatementError)
    async def unstorable(_req: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc, IntegrityError):
            return await integrity(_req, exc)
        busy = lock_timeout(exc) or unavailable(exc)
        if busy is not None:  # PostgreSQL restarting or away: 503 with Retry-After, never a 500
            log.warning("%s", busy.message)
            return await domain_error(_req, busy)
        log.warning("value refused by the database: %s", exc.orig)
        reason = str(exc.orig).splitlines()[0][:200] if isinstance(exc.orig, ValueError | OverflowError) or \
            type(exc.orig).__name__ in ("DataError", "NumericValueOutOfRange", "StringDataRightTruncation") \
            else None
        if reason is None:
            raise exc
        return _problem(422, f"a value cannot be stored: {reason}")

    @app.exception_handler(OverflowError)
    async def overflow(_req: Request, exc: OverflowError) -> JSONResponse:
        log.warning("overflow: %s", exc)
        return _problem(422, f"a number or time is out of range: {exc}")


def _install_offline_docs(app: FastAPI) -> None:
    """Swagger UI at /api/docs from files shipped in a PyPI package: no CDN on isolated networks."""
    app.mount("/api/docs-static", StaticFiles(directory=SWAGGER_DIR), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="AnBao 安保 API",
                                   swagger_js_url="/api/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/api/docs-static/favicon.png")


def create_app(settings: Settings | None = None, *, simulate: tuple[int, float] | None = None) -> FastAPI:
    """The app. ``simulate=(event_id, speed)`` also runs the live simulator (the demo does)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    wiring.connect()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if isinstance(app.state.bus, BrokerBus):  # several replicas: live messages through the broker
            await asyncio.to_thread(app.state.bus.start)
        task = asyncio.create_task(app.state.watcher.run(), name="anbao-warnings")
        sim_task = None
        if simulate is not None:
            from anbao.sim.live import run_async

            sim_task = asyncio.create_task(run_async(app.state.sessions, simulate[0], speed=simulate[1]),
                                           name="anbao-simulator")
        consumer = None
        if settings.mqtt_url:
            # a share of the fixed consumer slots with kept sessions, taken over when a holder dies (docs/mqtt.md)
            consumer = await asyncio.to_thread(
                consume, url=settings.mqtt_url, engine=engine, sessions=app.state.sessions,
                prefix=settings.mqtt_client_id, slots=settings.mqtt_slots,
                session_expiry_s=settings.mqtt_session_expiry_s, var_dir=settings.var_dir)
        try:
            yield
        finally:
            app.state.evacuation_runs.shutdown()  # queued runs are dropped; a running one ends at its time cap
            if consumer is not None:
                await asyncio.to_thread(consumer.stop)
            for t in (task, sim_task):
                if t is not None:
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
            app.state.watcher.close()
            if isinstance(app.state.bus, BrokerBus):
                await asyncio.to_thread(app.state.bus.stop)
            engine.dispose()

    app = FastAPI(title="AnBao 安保 API", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, openapi_url="/api/v1/openapi.json", redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    # PostgreSQL and a broker: replicas share the live stream through the broker (docs/scale-out.md)
    app.state.bus = BrokerBus(engine, settings.mqtt_url, root=settings.mqtt_live_prefix,
                              broadcast=[events.ReadingsStored]) \
        if settings.mqtt_url and uses_broker(database_url=settings.database_url, mqtt_url=settings.mqtt_url) \
        else InProcessBus()
    # every session carries the bus: what a transaction posts to the outbox goes out when it commits
    app.state.sessions = make_sessionmaker(engine, info={"bus": app.state.bus,
                                                         audit.KEY_INFO: audit.use_keys(settings.audit_keys())})
    app.state.signing_key = settings.signing_key()
    app.state.login_limiter = LoginRateLimiter(settings.login_attempts_per_minute,
                                               per_address=settings.login_attempts_per_address_per_minute)
    # on PostgreSQL every replica runs a watcher and the holder of the lease evaluates (docs/scale-out.md)
    app.state.watcher = Watcher(app.state.sessions, app.state.bus, settings.evaluate_interval_s,
                                lease=AdvisoryLease(engine, "warning-engine")
                                if engine.dialect.name == "postgresql" else None)
    #: callables told after commit that an event got readings over HTTP (the watcher hears them on the bus)
    app.state.ingest_listeners = []
    app.state.evacuation_runs = Runs()
    _install_error_handlers(app)
    # X-Forwarded-For is believed from the configured proxies only (docs/security.md); no token in a log line
    app.add_middleware(TrustedProxies, trusted=parse_networks(settings.trusted_proxies))
    keep_tokens_out_of_logs()

    # request bodies over their limit are refused before they are read; security headers on every response
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)

    api = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query), Depends(check_parameters)])
    for router in (system_router, account_router, event_router, venue_router, org_router, sensing_router,
                   alert_router, cap_router, plan_router, response_router, crowd_router, documents_router,
                   risk_router, review_router, incident_router, dispatch_router,
                   live_router, ui_router, zone_router):
        api.include_router(router)
    app.include_router(api)
    _install_offline_docs(app)
    for name, folder in VENDOR_DIRS.items():
        if folder.is_dir():
            app.mount(f"/vendor/{name}", static_app(StaticFiles(directory=folder), version=package_version(folder)),
                      name=f"vendor-{name}")
        else:
            log.warning("front-end library %s is missing at %s: run `make install`", name, folder)
    # gzip and Cache-Control (immutable versioned vendor files, the rest revalidated by ETag): docs/frontend.md
    app.mount("/", static_app(WebFiles(directory=WEB_DIR, html=True)), name="web")  # without node_modules/, npm files
    return app
