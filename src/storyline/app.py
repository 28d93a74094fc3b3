"""The web application: the HTTP API (``storyline.api``) and the web pages (``storyline.web``)
over one store. ``storyline serve`` runs it with uvicorn; tests drive it with a TestClient."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from storyline.api import articles, errors, health, search, stories
from storyline.api.cache import ResultCache
from storyline.api.deps import ApiState
from storyline.api.health import storyline_version
from storyline.api.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit, TokenBucket
from storyline.api.security import RequestHygiene, WriteAccess
from storyline.settings import Settings
from storyline.store import open_store
from storyline.store.base import Store

DESCRIPTION = """\
Cross-lingual news stories (uk, ru, en) from the storyline store: ranked stories, one story with
its timeline, articles by language, entities, quotes and why its articles are together; articles;
search; and ingest of JSON records.

Every error has one shape: `{"error": {"code": "not_found", "message": "...", "detail": ...}}`.
"""


# How long an idle connection stays open. Longer than clients and proxies keep theirs (httpx 5 s,
# nginx 60 s): with uvicorn's 5 s, a client reusing a connection just as the server closed it got
# a transport error (seen under 50 concurrent clients), and a proxy would answer 502.
KEEP_ALIVE_SECONDS = 75


@dataclass(frozen=True)
class ApiLimits:
    """Request size and write rate limits."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Writes per second each client earns, and how many it may make at once.
    write_rate: float = 1.0
    write_burst: int = 30


def create_app(settings: Settings | None = None, *, api_token: str | None = None,
               store: Store | None = None, local_writes: bool = False,
               limits: ApiLimits | None = None, cache_seconds: float = 10.0) -> FastAPI:
    """The application over ``store`` (or the store at ``settings.db``, opened now and closed
    when the app shuts down).

    Writes (``POST /api/articles``) need ``api_token`` as a Bearer token when it is given;
    without a token they are refused, unless ``local_writes`` (set by ``storyline serve`` only
    when it binds a loopback address) lets requests from this machine write.

    Story listings and search answers are kept ``cache_seconds`` (0: not at all), then refreshed
    in the background while the old answer is still served for up to a minute; a write through
    the app clears them, a write by another process shows after ``cache_seconds`` and one refresh."""
    settings = settings or Settings()
    limits = limits or ApiLimits()
    owns = store is None
    store = open_store(settings.db) if store is None else store
    try:
        bucket = TokenBucket(limits.write_rate, limits.write_burst)
        access = WriteAccess(token=api_token or None, local_writes=local_writes, bucket=bucket)
        memory = _in_memory(store)
        guard = threading.Lock() if memory else contextlib.nullcontext()
        # A background refresh would read the one shared connection outside the guard.
        cache = ResultCache(cache_seconds, stale=0 if memory else 60)
        state = ApiState(store=store, settings=_store_embedder(settings, store), access=access,
                         owns_store=owns, guard=guard, cache=cache)
    except BaseException:
        if owns:
            store.close()
        raise

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if state.owns_store:
            state.store.close()

    # Swagger UI from files the package ships: the machine has no internet, and no page of ours
    # loads anything from a CDN.
    app = FastAPIOffline(title="storyline", version=storyline_version(), description=DESCRIPTION,
                         docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.storyline = state
    app.openapi = functools.partial(_api_openapi, app)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(RequestHygiene)  # outermost: before a body is read
    for module in (stories, articles, search, health):
        app.include_router(module.router)
    _mount_web(app)
    return app


def _mount_web(app: FastAPI) -> None:
    from storyline.web.routes import router as web_router

    app.include_router(web_router)
    static = Path(__file__).parent / "web" / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")


def _api_openapi(app: FastAPI) -> dict:
    """The OpenAPI document of the /api routes: the web pages are HTML for people, not an API."""
    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        doc["paths"] = {path: ops for path, ops in doc["paths"].items() if path.startswith("/api/")}
        schemas = doc.get("components", {}).get("schemas", {})
        used = _referenced(doc["paths"], schemas)
        for name in set(schemas) - used:
            del schemas[name]
        app.openapi_schema = doc
    return app.openapi_schema


def _referenced(node, schemas: dict) -> set[str]:
    """Names of the component schemas ``node`` refers to, directly or through other schemas."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found and name in schemas:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def openapi_document() -> dict:
    """The API's OpenAPI document (what /openapi.json serves), from an app over an empty store."""
    app = create_app(Settings(db="sqlite://"))
    try:
        return app.openapi()
    finally:
        app.state.storyline.store.close()


def write_openapi(path: str | Path) -> None:
    """Write the OpenAPI document to ``path`` (docs/openapi.json is kept up to date with it)."""
    text = json.dumps(openapi_document(), ensure_ascii=False, indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def _store_embedder(settings: Settings, store: Store) -> Settings:
    """The settings with the embedder that made the store's vectors: records posted later are
    clustered with the stored ones, and vectors of two models do not mix."""
    from storyline.nlp.embed import get_embedder

    models = store.vector_models()
    if not models:
        return settings
    for choice in dict.fromkeys((settings.embedder, "e5", "lexical")):
        if get_embedder(choice).name == models[0]:
            return settings.with_overrides(embedder=choice)
    return settings


def _in_memory(store: Store) -> bool:
    url = store.url
    return url.startswith("sqlite") and url.split("://", 1)[-1] in ("", "/", "/:memory:")


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000,
          api_token: str | None = None, echo=print) -> None:
    """Run the app with uvicorn until interrupted; ``echo`` tells where it listens."""
    import uvicorn

    from storyline.api.security import is_loopback
    from storyline.store.sql import safe_url

    local = is_loopback(host)
    app = create_app(settings, api_token=api_token, local_writes=local)
    shown = f"[{host}]" if ":" in host else host
    echo(f"storyline: serving {safe_url(settings.db)} at http://{shown}:{port}/ "
         f"(API under /api, OpenAPI at /openapi.json, docs at /docs)")
    mode = app.state.storyline.access.mode
    echo({"token": "writes (POST /api/articles): need the API token",
          "local": "writes (POST /api/articles): from this machine, no token (bound to loopback)",
          "disabled": "writes (POST /api/articles): disabled; set an API token to enable them"}[mode])
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)
