"""create_app(): one ASGI app with the token service, the Public API and its docs, and the web console."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import configure_mappers
from starlette.middleware import Middleware

from openmira import __version__
from openmira.agents.worker import CommandSweeper
from openmira.api import create_api
from openmira.config import API_PREFIX, Settings, get_settings
from openmira.console import CONSOLE_PREFIX, create_console
from openmira.core.dispatch import DispatchingApp
from openmira.core.errors import install_problem_handlers
from openmira.core.limits import BodyLimitMiddleware, RequestLimitsMiddleware
from openmira.core.nul import NulGuardMiddleware
from openmira.core.observability import RequestContextMiddleware
from openmira.core.routing import set_db_threads
from openmira.cors import ApiCORSMiddleware
from openmira.oauth.routes import router as oauth_router
from openmira.runtime import Runtime
from openmira.webhooks.worker import DeliveryWorker

log = logging.getLogger("openmira")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_runtime = runtime is None
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[Mapping[str, Any] | None]:
        # One sweeper per run of the lifespan: a test harness may run it again (even overlapping) on the
        # same app, and each run must stop the task it started.
        set_db_threads(settings.db_threads)
        sweeper = CommandSweeper(runtime.sessions, settings.agent_command_delay, settings.agent_command_interval)
        worker = DeliveryWorker(runtime) if settings.webhook_worker else None
        sweeper.start()
        if worker is not None:
            worker.start()
        try:
            async with runtime.loop_reads() as state:
                yield state or None  # a state asks the server for support of it: none when there is nothing to keep
        finally:
            if worker is not None:
                await worker.stop()
            await sweeper.stop()
            if owns_runtime:
                runtime.close()

    app = DispatchingApp(
        title="OpenMira", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
        # Every request passes these; an API request then enters the API's own stack (core/dispatch.py).
        middleware=[
            # Outermost: a preflight is answered before any other layer sees it.
            *([Middleware(ApiCORSMiddleware, origins=settings.cors_origin_list)] if settings.cors_origin_list else []),
            Middleware(RequestContextMiddleware),
            Middleware(RequestLimitsMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    # The NUL guard inside the body limit (it reads the bounded body); the API runs its own after authentication.
    app.dispatch(API_PREFIX, create_api(runtime), own=[Middleware(NulGuardMiddleware)])
    app.include_router(oauth_router)
    if settings.admin_token:  # fault injection over HTTP, for test suites in other languages
        from openmira.faults.routes import router as faults_admin_router

        app.include_router(faults_admin_router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{CONSOLE_PREFIX}/sign-in")

    @app.get(CONSOLE_PREFIX, include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse(f"{CONSOLE_PREFIX}/")

    app.mount(CONSOLE_PREFIX, create_console(runtime))
    return app


def serve_app() -> FastAPI:
    """The app as a server process runs it (``openmira serve``, each of its workers): built, then everything
    alive so far moved out of the garbage collector's reach.

    Building the app leaves about 150,000 long-lived objects (modules, routes, models, schemas) that every full
    collection would walk again: about 90 ms with every request stopped, which showed as a p99 of 80-140 ms
    on requests whose p50 is 8 ms (docs/benchmarks.md, round 6). ``gc.freeze`` keeps them out of every
    collection; they live as long as the process anyway. Not in ``create_app``: a test process builds many
    apps, and each one frozen would never be freed.
    """
    app = create_app()
    configure_mappers()  # else done by the first query, after the freeze
    gc.collect()  # what building the app left as garbage is freed now, not frozen with the rest
    gc.freeze()
    return app
