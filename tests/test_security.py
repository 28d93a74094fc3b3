"""Security of the HTTP surface on both backends: query syntax is only words, user values reach
SQL only as parameters, no request names a file to read, every write route needs the token, NUL
bytes are a clear 400, and every answer carries its security headers.

Token checks, rate and size limits, tokenless local writes and the default loopback binding have
their own tests (test_api.py, test_api_limits.py); the hostile-page rendering is in test_web.py
and test_browser.py."""

from __future__ import annotations

import ast
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from pg import admin_engine, postgres_url
from storyline.app import ApiLimits, create_app
from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "out" / "reliability" / "security.json"
TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SQL_WORDS = re.compile(r"sqlite|psycopg|syntax error|fts5|tsquery|OperationalError|ProgrammingError|"
                       r"Traceback|SELECT |postgresql://", re.IGNORECASE)

# FTS5 and tsquery syntax, SQL, and what breaks parsers: each must be a 200 (words) or a clear 4xx.
HOSTILE_QUERIES = [
    '"', '""', '"Путин', 'Путин"', '"Путин" OR "Байден"', "Путин OR", "OR", "AND", "NOT Путин",
    "NEAR(Путин Байден, 2)", "NEAR(", "title:Путин", "{title body}: Путин", "- Путин", "-Путин",
    "Путин*", "*", "^Путин", "(Путин", "Путин)", "((((", "Путин & Байден", "Путин | !Байден",
    "!!", "Путин <-> Байден", "Путин <2> Байден", "Путин:*", "Путин:A", "'", "''", "\\", "\\'",
    "'; DROP TABLE articles; --", "\" OR 1=1 --", "Путин') OR ('1'='1", "%", "_", "\u200b",
    "\U0001F600 Путин", "Пу\u0301тин", "x" * 500, "Путин " * 12, "а" * 499,
]


def _seed(url: str) -> None:
    sample = REPO / "data" / "sample"
    crawled_at = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
    with open_store(url) as store:
        ingest([str(sample / n) for n in ("pages", "html", "feed.jsonl")], store,
               Settings(crawled_at=crawled_at, embedder="lexical"))


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'store.db'}"
    _seed(url)
    return url


@pytest.fixture(scope="module")
def postgres_store_url():
    """One schema for the module: the sample is ingested once, and each test writes new ids."""
    base = postgres_url()
    schema = f"storyline_sec_{uuid.uuid4().hex[:12]}"
    admin = admin_engine()
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{base}?options={quote(f'-csearch_path={schema}')}"
    _seed(url)
    yield url
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def app(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_store_url")
    app = create_app(Settings(db=url), api_token=TOKEN, cache_seconds=0,
                     limits=ApiLimits(write_rate=1000, write_burst=1000))
    yield app
    app.state.storyline.store.close()


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def findings():
    """What the hostile requests got, per backend: out/reliability/security.json."""
    seen: dict = {}
    yield seen
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(seen, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def note(findings: dict, app, kind: str, response) -> None:
    backend = app.state.storyline.store.url.split(":", 1)[0]
    counts = findings.setdefault(backend, {}).setdefault(kind, {})
    counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1


@pytest.fixture
def statements(app):
    """Every SQL statement the app's store sends, as text (parameters apart)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = app.state.storyline.store.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def assert_clean_refusal(response, statuses=(400, 422)):
    assert response.status_code in statuses, response.text[:300]
    if response.headers["content-type"].startswith("application/json"):
        assert set(response.json()["error"]) == {"code", "message", "detail"}
    assert not SQL_WORDS.search(response.text), response.text[:300]


# -- search syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_query_syntax_is_words_or_a_clear_refusal(client, app, findings, query):
    for path in ("/api/search", "/search"):
        response = client.get(path, params={"q": query})
        note(findings, app, "search syntax", response)
        if response.status_code == 200:
            assert not SQL_WORDS.search(response.text) or path == "/search"
            continue
        assert_clean_refusal(response)


@pytest.mark.parametrize("query", ["x" * 10_000, "Путин " * 2_000, "(" * 5_000, '"' * 10_000])
def test_a_ten_thousand_character_query_is_refused_clearly(client, app, findings, query):
    for path in ("/api/search", "/search"):
        response = client.get(path, params={"q": query})
        note(findings, app, "10k-character query", response)
        assert_clean_refusal(response)
        assert query[:100] not in response.text  # refused without echoing it back


def test_syntax_around_a_name_finds_what_the_name_finds(client):
    plain = client.get("/api/search", params={"q": "Україна"}).json()
    assert plain["total"] > 0
    for wrapped in ('"Україна"', "Україна*", "(Україна)", "Україна:*", "{title}: Україна", "-Україна",
                    "Україна & !", "Україна OR", "Україна)) --"):
        found = client.get("/api/search", params={"q": wrapped}).json()
        assert [a["id"] for a in found["articles"]] == [a["id"] for a in plain["articles"]], wrapped


# -- NUL bytes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/api/articles/a%00b", "/api/stories/st_%00", "/api/events/ev_%00", "/api/stories?outlet=a%00b",
    "/api/search?q=Путин%00", "/api/search?q=Путин&outlet=%00", "/api/search?q=%00",
    "/stories/st_%00", "/articles/a%00b", "/search?q=Путин%00", "/?lang=%00",
])
def test_a_nul_byte_in_a_url_is_a_clear_400(client, app, findings, path):
    response = client.get(path)
    note(findings, app, "NUL in URL", response)
    assert_clean_refusal(response, (400,))
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 400
    if not path.startswith("/api"):
        assert page.headers["content-type"].startswith("text/html")


def test_nul_bytes_in_posted_records_never_fail_the_request(client):
    body = [
        {"id": f"nul-id-{uuid.uuid4().hex[:6]}\u0000x", "text": "Київ і Харків. " * 30},
        {"id": f"nul-text-{uuid.uuid4().hex[:6]}", "title": "Заголовок\u0000", "text": "Київ\u0000 " * 80},
        {"id": f"nul-only-{uuid.uuid4().hex[:6]}", "text": "\u0000" * 400},
    ]
    response = client.post("/api/articles", json=body, headers=AUTH)
    assert response.status_code == 200, response.text[:300]
    results = response.json()["results"]
    assert [r["status"] in ("ingested", "rejected") for r in results] == [True] * 3
    for result in results:
        if result["status"] == "ingested":
            article = client.get(f"/api/articles/{quote(result['id'], safe='')}").json()
            assert "\u0000" not in json.dumps(article)


# -- no SQL from user values --------------------------------------------------------------------


def test_user_values_reach_sql_only_as_parameters(client, statements):
    marker = "zqxmarker"
    requests = [
        ("/api/search", {"q": f"{marker} Путин", "outlet": f"{marker} outlet", "lang": "uk"}),
        ("/api/search", {"q": f"'{marker}\" OR 1=1 --"}),
        ("/api/stories", {"outlet": f"{marker}'; --", "lang": "uk", "since": "2021-01-01"}),
        (f"/api/stories/st_{marker}'--", None),
        (f"/api/events/ev_{marker}", None),
        (f"/api/articles/{marker}' OR '1'='1", None),
        ("/search", {"q": f"{marker}*", "outlet": marker}),
        (f"/stories/{marker}", None),
        (f"/articles/{marker}", None),
    ]
    for path, params in requests:
        response = client.get(path, params=params)
        assert response.status_code in (200, 404), (path, response.status_code, response.text[:200])
    assert statements, "no statement was seen: the listener is not on the app's engine"
    assert not [s for s in statements if marker in s.lower()]


def test_posted_values_reach_sql_only_as_parameters(client, statements):
    marker = "zqxpost"
    record = {"id": f"{marker}-{uuid.uuid4().hex[:6]}'; DROP TABLE articles; --",
              "title": f"{marker} Заголовок", "source": f"{marker}\" outlet",
              "text": f"{marker} Київ і Харків домовилися про спільний проєкт. " * 10}
    response = client.post("/api/articles", json=record, headers=AUTH)
    assert response.json()["results"][0]["status"] == "ingested", response.text[:300]
    assert not [s for s in statements if marker in s.lower()]


SOURCES = ("store/*.py", "search/*.py", "api/*.py", "web/*.py", "stories/*.py")
SQL_TEXT = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|FROM|JOIN|PRAGMA|VALUES|MATCH|ORDER BY)\b")
# What may be interpolated into SQL text, each built from constants of its module only (checked
# for `where` below): column lists and weights from FIELDS and WEIGHTS, the filter clause, the
# joins it needs, and the busy timeout as an int.
ALLOWED_IN_SQL = {"columns", "values", "weights", "where", "c", "_sqlite_from(where)",
                  "_articles(where)", "int(SQLITE_BUSY_TIMEOUT_MS)"}


def _python_files() -> list[Path]:
    return sorted(path for pattern in SOURCES for path in (REPO / "src" / "storyline").glob(pattern))


def test_no_sql_is_built_from_values_with_fstrings_format_or_percent():
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.JoinedStr):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if not SQL_TEXT.search(literal):
                    continue
                for value in node.values:
                    if isinstance(value, ast.FormattedValue):
                        shown = ast.unparse(value.value)
                        if shown not in ALLOWED_IN_SQL:
                            problems.append(f"{where}: f-string SQL interpolates {shown}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
                  and isinstance(node.func.value.value, str) and SQL_TEXT.search(node.func.value.value)):
                problems.append(f"{where}: SQL built with str.format")
            elif (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add))
                  and any(isinstance(side, ast.Constant) and isinstance(side.value, str)
                          and SQL_TEXT.search(side.value) for side in (node.left, node.right))
                  and not all(isinstance(side, ast.Constant) for side in (node.left, node.right))):
                problems.append(f"{where}: SQL built with % or +")
    assert problems == []


def test_the_filter_clause_is_made_of_constant_fragments():
    """``where`` (allowed above) comes from fulltext.filter_clause: its fragments are literals,
    and every value goes into the parameters."""
    from datetime import UTC

    from storyline.store.base import TextFilters
    from storyline.store.fulltext import filter_clause

    source = (REPO / "src" / "storyline" / "store" / "fulltext.py").read_text(encoding="utf-8")
    function = next(n for n in ast.walk(ast.parse(source))
                    if isinstance(n, ast.FunctionDef) and n.name == "filter_clause")
    appended = [call.args[0] for call in ast.walk(function) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute) and call.func.attr == "append"]
    assert appended and all(isinstance(arg, ast.Constant) for arg in appended)
    hostile = "x' OR '1'='1"
    where, params = filter_clause(TextFilters((hostile,), (hostile,), datetime(2021, 1, 1, tzinfo=UTC)))
    assert hostile not in where and params["langs"] == [hostile] and params["sources"] == [hostile]


# -- no file-system paths from clients ----------------------------------------------------------


def test_records_cannot_make_the_server_read_a_file(client, findings, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("ТАЄМНИЦЯ-7731 " * 40, encoding="utf-8")
    tag = uuid.uuid4().hex[:6]
    records = [
        {"id": f"path-{tag}", "path": str(secret)},
        {"id": f"file-{tag}", "file": str(secret), "text": None},
        {"id": f"origin-{tag}", "origin": str(secret), "html": None},
        {"id": f"url-{tag}", "url": secret.as_uri(), "title": "Файл"},
        {"id": f"html-{tag}", "html": f'<iframe src="{secret.as_uri()}"></iframe><img src="{secret}">'},
        {"id": str(secret), "text": "Київ і Харків домовилися про спільний проєкт. " * 10},
        {"id": f"../../{tag}/../{secret.name}", "text": "Одеса і Львів підписали угоду про співпрацю. " * 10},
    ]
    response = client.post("/api/articles", json=records, headers=AUTH)
    note(findings, client.app, "records naming files", response)
    assert response.status_code == 200, response.text[:300]
    assert "7731" not in response.text
    results = response.json()["results"]
    assert [r["status"] for r in results[:5]] == ["rejected"] * 5
    store = client.app.state.storyline.store
    for result in results[5:]:
        assert result["status"] == "ingested"
        article = store.get_article(result["id"])
        assert "7731" not in article.text and article.raw.origin == f"api:{result['id']}"
    for rejection in store.iter_rejections():
        assert "7731" not in (rejection.raw.content if rejection.raw else "")
    assert secret.read_text(encoding="utf-8").startswith("ТАЄМНИЦЯ")  # read by this test only
    assert not (tmp_path / tag).exists()


@pytest.mark.parametrize("path", [
    "/api/articles/..%2F..%2Fetc%2Fpasswd", "/api/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/articles/..%2F..%2Fetc%2Fpasswd", "/static/..%2F..%2F..%2Fpyproject.toml",
    "/static/../app.py", "/static/%2e%2e/app.py", "/stories/..%2F..%2Fetc%2Fpasswd",
])
def test_dot_dot_paths_read_no_file(client, app, findings, path):
    response = client.get(path)
    note(findings, app, "../ path", response)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "root:" not in response.text and "[project]" not in response.text
    assert "create_app" not in response.text


# -- writes need the token ----------------------------------------------------------------------


def _routes(routes):
    for route in routes:
        nested = getattr(route, "original_router", None)  # an included router
        if nested is not None:
            yield from _routes(nested.routes)
        elif hasattr(route, "methods") and hasattr(route, "path"):
            yield route


def test_every_write_route_needs_the_token(app, client, findings):
    writes = [(method, route.path) for route in _routes(app.routes) for method in route.methods
              if method not in ("GET", "HEAD", "OPTIONS")]
    assert ("POST", "/api/articles") in writes
    for method, path in writes:
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = client.request(method, concrete, json={"id": "w", "text": "x" * 300},
                                      headers=headers)
            note(findings, app, "write without a valid token", response)
            assert response.status_code == 401, (method, path, headers, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"


# -- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/search?q=Путин", "/stories/st_nope", "/articles/nope",
                                  "/no/such/page", "/?page=abc"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/api/stories", "/api/search?q=Путин", "/api/articles/nope",
                                  "/api/health", "/api/nope", "/openapi.json", "/static/style.css"])
def test_api_answers_are_not_sniffed_or_framed(client, path):
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    if path.startswith("/api/"):
        assert response.headers["content-type"].startswith("application/json")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_store_failure_does_not_name_the_store(client, app, monkeypatch):
    store = app.state.storyline.store

    def broken(*args, **kwargs):
        from storyline.errors import StoreError

        raise StoreError(f"cannot count articles in store {store.url}: disk I/O error")

    monkeypatch.setattr(store, "count_articles", broken)
    response = client.get("/api/health")
    assert response.status_code == 503 and response.json()["error"]["code"] == "store_unavailable"
    assert store.url not in response.text and "disk I/O" not in response.text
