"""The HTTP API over a store filled once from the sample corpus (data/sample)."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient

from storyline.app import ApiLimits, create_app, openapi_document
from storyline.cli import main
from storyline.errors import StoreError
from storyline.export import RECORD_FIELDS
from storyline.settings import Settings
from storyline.stories.render import story_to_dict
from storyline.stories.view import story_view

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
CRAWLED_AT = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
TOKEN = "test-token-4f1c"
LOCAL = ("127.0.0.1", 50123)
HOSTILE_TITLE = '<script>alert("x")</script> \u202eevil\u202c & "quotes" \x07'


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    from storyline.ingest.run import ingest
    from storyline.store import open_store

    path = tmp_path_factory.mktemp("api") / "sample.db"
    paths = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
    with open_store(f"sqlite:///{path}") as store:
        ingest(paths, store, Settings(crawled_at=CRAWLED_AT, embedder="lexical"))
    return path


@pytest.fixture(scope="session")
def app(sample_db):
    app = create_app(Settings(db=f"sqlite:///{sample_db}", embedder="lexical"))
    yield app
    app.state.storyline.store.close()


@pytest.fixture(scope="session")
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def store(app):
    return app.state.storyline.store


@pytest.fixture(scope="session")
def top_story(client) -> dict:
    return client.get("/api/stories", params={"limit": 1}).json()["stories"][0]


@pytest.fixture()
def writable_db(sample_db, tmp_path) -> Path:
    """A copy of the sample store for tests that write (a consistent copy, WAL included)."""
    target = tmp_path / "copy.db"
    with sqlite3.connect(sample_db) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def writer(db: Path, *, token: str | None = TOKEN, local: bool = False, limits=None,
           peer=("testclient", 50000)) -> TestClient:
    app = create_app(Settings(db=f"sqlite:///{db}", embedder="lexical"), api_token=token,
                     local_writes=local, limits=limits)
    return TestClient(app, raise_server_exceptions=False, client=peer)


def record(n: int, **fields) -> dict:
    text = (f"Record {n}: the Kyiv city council met on Tuesday to discuss the heating season. "
            "Officials said the district boilers would start on schedule and that repairs of the "
            "damaged substations were finished ahead of the cold weather, according to the mayor.")
    return {"id": f"api-test-{n}", "title": f"Heating season record {n}", "text": text,
            "published": "2025-10-20T09:00:00+03:00", "source": "Test Wire", "lang": "en", **fields}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


# -- health ------------------------------------------------------------------------------------


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["articles"] == 52
    assert body["store"] == "sqlite"
    assert body["writes"] == "disabled"
    assert body["version"] and body["schema_version"] >= 1


def test_health_reports_an_unreachable_store(client, store, monkeypatch):
    def broken():
        raise StoreError("cannot count articles in store sqlite:///x: disk I/O error")

    monkeypatch.setattr(store, "count_articles", broken)
    assert_error(client.get("/api/health"), 503, "store_unavailable")


# -- stories -----------------------------------------------------------------------------------


def test_stories_ranked_and_paged(client):
    body = client.get("/api/stories", params={"limit": 5}).json()
    stories = body["stories"]
    assert len(stories) == 5 and body["limit"] == 5 and body["offset"] == 0
    assert [s["rank"] for s in stories] == [1, 2, 3, 4, 5]
    assert [s["score"] for s in stories] == sorted((s["score"] for s in stories), reverse=True)
    assert body["next_offset"] == 5
    second = client.get("/api/stories", params={"limit": 5, "offset": 5}).json()
    assert second["stories"][0]["rank"] == 6
    whole = client.get("/api/stories", params={"limit": 10}).json()["stories"]
    assert [s["id"] for s in whole] == [s["id"] for s in stories + second["stories"]]


def test_last_page_has_no_next(client):
    everything = client.get("/api/stories", params={"limit": 100}).json()
    assert everything["next_offset"] is None
    count = len(everything["stories"])
    tail = client.get("/api/stories", params={"limit": 100, "offset": count - 1}).json()
    assert len(tail["stories"]) == 1 and tail["next_offset"] is None
    assert client.get("/api/stories", params={"offset": count}).json()["stories"] == []


@pytest.mark.parametrize("params, field", [
    ({"limit": 101}, "limit"),
    ({"limit": 0}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"since": "yesterday"}, "since"),
    ({"until": "2025-13-01"}, "until"),
    ({"lang": "<script>"}, "lang"),
])
def test_stories_bad_parameters(client, params, field):
    error = assert_error(client.get("/api/stories", params=params), 422, "invalid_request")
    assert error["message"].startswith(f"{field}:")
    assert error["detail"][0]["field"] == field


def test_since_after_until_is_refused(client):
    response = client.get("/api/stories", params={"since": "2025-11-01", "until": "2025-10-01"})
    assert_error(response, 422, "invalid_request")


def test_stories_language_filter(client):
    stories = client.get("/api/stories", params={"lang": "en", "limit": 100}).json()["stories"]
    assert stories and all("en" in s["languages"] for s in stories)
    assert all(s["headline_lang"] in (None, "en") for s in stories[:3])
    everything = client.get("/api/stories", params={"limit": 100}).json()["stories"]
    assert len(stories) < len(everything)


def test_stories_outlet_filter_ignores_case_and_spaces(client):
    stories = client.get("/api/stories", params={"outlet": "  harbour   LINE ", "limit": 100}).json()
    assert stories["stories"] and all("Harbour Line" in s["outlets"] for s in stories["stories"])
    nothing = client.get("/api/stories", params={"outlet": "No Such Outlet"}).json()
    assert nothing["stories"] == [] and nothing["next_offset"] is None


def test_stories_date_filters(client):
    since = client.get("/api/stories", params={"since": "2025-10-20", "limit": 100}).json()["stories"]
    assert since and all(s["last"] >= "2025-10-20" for s in since)
    until = client.get("/api/stories", params={"until": "2025-10-10", "limit": 100}).json()["stories"]
    assert until and all(s["first"] <= "2025-10-10T23:59:59.999999+00:00" for s in until)
    window = client.get("/api/stories", params={"since": "2025-10-09T00:00:00+03:00",
                                                "until": "2025-10-10T12:00Z", "limit": 100})
    assert window.status_code == 200


def test_story_detail_is_the_library_view(client, store, top_story):
    body = client.get(f"/api/stories/{top_story['id']}").json()
    expected = json.loads(json.dumps(story_to_dict(story_view(store, top_story["id"]))))
    assert body == expected
    assert body["headline"]["text"] == top_story["headline"]
    assert body["timeline"] and body["articles"] and body["entities"]
    assert body["explanation"]["text"]
    assert sum(len(arts) for arts in body["articles"].values()) == body["counts"]["articles"]


def test_story_in_the_readers_language(client, top_story):
    body = client.get(f"/api/stories/{top_story['id']}", params={"lang": "en"}).json()
    assert body["headline"]["preferred_lang"] == "en"
    assert next(iter(body["articles"])) == "en"


def test_unknown_story_and_event(client):
    error = assert_error(client.get("/api/stories/st_000000000000"), 404, "not_found")
    assert "st_000000000000" in error["message"] and error["detail"]["hint"]
    assert_error(client.get("/api/events/ev_000000000000"), 404, "not_found")


def test_event_detail(client, top_story):
    story = client.get(f"/api/stories/{top_story['id']}").json()
    event_id = story["timeline"][0]["id"]
    event = client.get(f"/api/events/{event_id}").json()
    assert event["id"] == event_id and event["story_id"] == top_story["id"]
    assert event["counts"]["events"] == 1 and "timeline" not in event
    article_ids = {a["id"] for arts in event["articles"].values() for a in arts}
    assert all(a["event_id"] == event_id for arts in event["articles"].values() for a in arts)
    assert len(article_ids) == event["counts"]["articles"]


# -- articles ----------------------------------------------------------------------------------


def test_article_has_the_export_contract_fields_and_paragraphs(client, store, top_story):
    story = client.get(f"/api/stories/{top_story['id']}").json()
    article_id = next(iter(story["articles"].values()))[0]["id"]
    body = client.get(f"/api/articles/{article_id}").json()
    assert set(RECORD_FIELDS) <= set(body)
    assert {k: body[k] for k in RECORD_FIELDS} == store.get_article(article_id).to_record()
    assert body["story_id"] == top_story["id"]
    assert body["paragraphs"] and all(p["lang"] for p in body["paragraphs"])
    assert "\n\n".join(p["text"] for p in body["paragraphs"]) == body["text"]
    assert isinstance(body["quotes"], list)


def test_unknown_article(client):
    error = assert_error(client.get("/api/articles/no-such-article"), 404, "not_found")
    assert "no-such-article" in error["message"]


def test_hostile_id_comes_back_as_json_data(client):
    response = client.get("/api/articles/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    error = assert_error(response, 404, "not_found")
    assert "<script>alert(1)</script>" in error["message"]


# -- errors everywhere -------------------------------------------------------------------------


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.delete("/api/stories"), 405, "method_not_allowed")


def test_unexpected_errors_leak_nothing(client, store, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret path /etc/storyline/keys")

    monkeypatch.setattr(store, "get_article", explode)
    response = client.get("/api/articles/anything")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and error["detail"] is None


# -- writes ------------------------------------------------------------------------------------


def test_writes_are_disabled_without_a_token(client):
    error = assert_error(client.post("/api/articles", json=record(1)), 403, "writes_disabled")
    assert "token" in error["message"]


def test_token_is_required_and_checked(writable_db):
    api = writer(writable_db)
    missing = api.post("/api/articles", json=record(1))
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = api.post("/api/articles", json=record(1), headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "unauthorized")
    basic = api.post("/api/articles", json=record(1), headers={"Authorization": f"Basic {TOKEN}"})
    assert_error(basic, 401, "unauthorized")
    assert api.get("/api/health").json()["articles"] == 52


def test_an_id_with_slashes_is_reachable_as_given_and_percent_encoded(writable_db):
    api = writer(writable_db)
    posted = api.post("/api/articles", json=record(7, id="wire/2025/7"),
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert posted.json()["results"][0]["status"] == "ingested", posted.text
    for path in ("/api/articles/wire/2025/7", "/api/articles/wire%2F2025%2F7"):
        got = api.get(path)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["id"] == "wire/2025/7" and got.json()["title"] == "Heating season record 7"
    page = api.get("/articles/wire%2F2025%2F7")
    assert page.status_code == 200 and "Heating season record 7" in page.text
    assert_error(api.get("/api/articles/wire/2025/8"), 404, "not_found")


def test_ingest_one_record_then_idempotent_then_updated(writable_db):
    api = writer(writable_db)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = api.post("/api/articles", json=record(1), headers=auth)
    assert first.status_code == 200, first.text
    (result,) = first.json()["results"]
    assert result["status"] == "ingested" and result["id"] == "api-test-1"
    assert result["event_id"].startswith("ev_") and result["story_id"].startswith("st_")
    assert first.json()["counts"] == {"ingested": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    again = api.post("/api/articles", json=record(1), headers=auth).json()
    assert again["results"][0]["status"] == "unchanged"
    assert again["results"][0]["story_id"] == result["story_id"]
    changed = api.post("/api/articles", json=record(1, title="Heating season starts on time"),
                       headers=auth).json()
    assert changed["results"][0]["status"] == "updated"
    stored = api.get("/api/articles/api-test-1").json()
    assert stored["title"] == "Heating season starts on time" and stored["source"] == "Test Wire"
    assert stored["published"] == "2025-10-20T09:00:00+03:00"
    assert api.get("/api/health").json()["articles"] == 53


def test_a_write_clears_cached_listings(writable_db):
    api = writer(writable_db)
    before = api.get("/api/stories", params={"outlet": "Test Wire"}).json()["stories"]
    assert before == []
    api.post("/api/articles", json=record(12), headers={"Authorization": f"Bearer {TOKEN}"})
    after = api.get("/api/stories", params={"outlet": "Test Wire"}).json()["stories"]
    assert [s["outlets"] for s in after] == [["Test Wire"]]


def test_ingest_a_list_with_bad_records(writable_db):
    api = writer(writable_db)
    records = [record(2), {"id": "bad-type", "text": 42}, "not an object", record(3),
               {"id": "short", "text": "Too short."}, record(2)]
    body = api.post("/api/articles", json=records, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [
        "ingested", "rejected", "rejected", "ingested", "rejected", "rejected"]
    assert [r["reason"] for r in results] == [
        None, "bad_record", "bad_record", None, "too_short", "duplicate_id"]
    assert results[1]["id"] == "bad-type" and "text" in results[1]["detail"]
    assert results[2]["id"] is None and "object" in results[2]["detail"]
    assert results[5]["id"] == "api-test-2" and "record 0" in results[5]["detail"]
    assert body["counts"] == {"ingested": 2, "updated": 0, "unchanged": 0, "rejected": 4}


def test_ingest_json_lines(writable_db):
    api = writer(writable_db)
    lines = "\n".join(json.dumps(r) for r in (record(4), record(5))) + "\n{broken\n\n"
    response = api.post("/api/articles", content=lines.encode("utf-8"),
                        headers={"Authorization": f"Bearer {TOKEN}",
                                 "Content-Type": "application/x-ndjson"})
    assert [r["status"] for r in response.json()["results"]] == ["ingested", "ingested", "rejected"]


@pytest.mark.parametrize("content, content_type, status, code", [
    (b"{not json", "application/json", 422, "invalid_request"),
    (b"42", "application/json", 422, "invalid_request"),
    (b"[]", "application/json", 422, "invalid_request"),
    (b"\xff\xfe", "application/json", 422, "invalid_request"),
    (b'{"text": "x"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"text": "x"}', "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'{"text": "x"}', "", 415, "unsupported_media_type"),
])
def test_bad_bodies(writable_db, content, content_type, status, code):
    api = writer(writable_db)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    assert_error(api.post("/api/articles", content=content, headers=headers), status, code)


def test_too_many_records(writable_db):
    from storyline.api.ingest import MAX_RECORDS

    api = writer(writable_db)
    body = [{"text": "x"}] * (MAX_RECORDS + 1)
    response = api.post("/api/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert_error(response, 422, "invalid_request")


def test_hostile_text_is_stored_and_returned_as_data(writable_db):
    api = writer(writable_db)
    text = record(6)["text"] + "\n\nWith <b>tags</b>, <img src=x onerror=alert(1)> and \u200f RTL."
    rec = record(6, title=HOSTILE_TITLE, text=text, url="javascript:alert(1)")
    result = api.post("/api/articles", json=rec, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert result["results"][0]["status"] == "ingested", result
    response = api.get("/api/articles/api-test-6")
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # Markup is data and stays; a right-to-left override (it would reverse what follows on
    # screen) and a javascript: URL are not kept in the derived fields (the raw record keeps them).
    assert '<script>alert("x")</script>' in body["title"] and "\u202e" not in body["title"]
    assert "<img src=x onerror=alert(1)>" in body["text"]
    assert body["url"] is None


def test_local_writes_only_from_this_machine(writable_db):
    local = writer(writable_db, token=None, local=True, peer=LOCAL)
    ok = local.post("/api/articles", json=record(7), headers={"Host": "127.0.0.1:8000"})
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "ingested"
    assert local.get("/api/health").json()["writes"] == "local"
    rebound = local.post("/api/articles", json=record(8), headers={"Host": "evil.example:8000"})
    assert_error(rebound, 403, "writes_disabled")
    remote = writer(writable_db, token=None, local=True, peer=("203.0.113.9", 4000))
    assert_error(remote.post("/api/articles", json=record(8)), 403, "writes_disabled")


def test_token_is_needed_even_from_this_machine_when_configured(writable_db):
    api = writer(writable_db, token=TOKEN, local=True, peer=LOCAL)
    assert_error(api.post("/api/articles", json=record(9), headers={"Host": "localhost"}), 401,
                 "unauthorized")


def test_body_size_limit(writable_db):
    api = writer(writable_db, limits=ApiLimits(max_body_bytes=2_000))
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    big = json.dumps([record(n) for n in range(10)]).encode()
    declared = api.post("/api/articles", content=big, headers=auth)
    error = assert_error(declared, 413, "payload_too_large")
    assert error["detail"]["limit_bytes"] == 2_000

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for start in range(0, len(big), 500):
            yield big[start:start + 500]

    streamed = api.post("/api/articles", content=chunks(), headers=auth)
    assert_error(streamed, 413, "payload_too_large")
    assert api.post("/api/articles", json=record(10), headers=auth).status_code == 200


def test_write_rate_limit(writable_db):
    api = writer(writable_db, limits=ApiLimits(write_rate=0.01, write_burst=2))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert api.post("/api/articles", json=record(11), headers=auth).status_code == 200
    assert api.post("/api/articles", json=record(11), headers=auth).status_code == 200
    limited = api.post("/api/articles", json=record(11), headers=auth)
    error = assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) == error["detail"]["retry_after"] >= 1
    # Reads are not rate limited.
    assert all(api.get("/api/health").status_code == 200 for _ in range(5))


def test_readers_run_while_a_write_goes_on(writable_db):
    api = writer(writable_db)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def read(_):
        return api.get("/api/stories", params={"limit": 5}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        posted = pool.submit(api.post, "/api/articles", json=[record(n) for n in range(20, 30)],
                             headers=auth)
        statuses = list(pool.map(read, range(24)))
        assert posted.result().status_code == 200
    assert set(statuses) == {200}
    assert api.get("/api/health").json()["articles"] == 62


# -- search ------------------------------------------------------------------------------------


@pytest.fixture()
def fake_search(monkeypatch):
    """storyline.search.search answering one known result: checks the query the endpoint builds
    and how it renders the answer."""
    import storyline.search
    from storyline.search import ArticleHit, SearchResults, Segment, StoryHit

    calls = []

    def search(store, query):
        calls.append(query)
        article = ArticleHit(
            id="a1", title="Путін і Байден", source="Гомін", lang="uk",
            published=datetime(2021, 12, 7, 18, 0, tzinfo=UTC), url=None, event_id="ev_1",
            story_id="st_1", score=1.23456,
            snippet=(Segment("Розмова ", False), Segment("Путіна", True)),
            title_snippet=(Segment("Путін", True), Segment(" і Байден", False)),
            matched_by=("text",))
        story = StoryHit(id="st_1", headline="Переговори", score=2.5, articles=3,
                         langs=("en", "uk"), outlets=("Гомін",), size=7, article_ids=("a1",),
                         headline_lang="uk")
        return SearchResults(query=query, total=1, articles=(article,), stories=(story,),
                             terms=("путин",))

    monkeypatch.setattr(storyline.search, "search", search)
    return calls


def test_search_maps_the_query_and_the_results(client, fake_search):
    response = client.get("/api/search", params=[("q", "Путин"), ("lang", "UK"), ("lang", "en"),
                                                  ("outlet", "Гомін"), ("since", "2021-12-01"),
                                                  ("until", "2021-12-31"), ("limit", 5),
                                                  ("offset", 5)])
    assert response.status_code == 200, response.text
    (query,) = fake_search
    assert query.text == "Путин" and query.langs == ("uk", "en") and query.outlets == ("Гомін",)
    assert query.since == datetime(2021, 12, 1, tzinfo=UTC)
    assert query.until == datetime(2021, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert (query.limit, query.offset) == (5, 5)
    body = response.json()
    assert body["query"] == "Путин" and body["total"] == 1 and body["terms"] == ["путин"]
    assert body["relaxed"] is False and body["dense_model"] is None
    hit = body["articles"][0]
    assert hit["published"] == "2021-12-07T18:00:00+00:00" and hit["score"] == 1.2346
    assert hit["snippet"] == [{"text": "Розмова ", "match": False}, {"text": "Путіна", "match": True}]
    assert hit["title_snippet"][0] == {"text": "Путін", "match": True}
    assert hit["matched_by"] == ["text"]
    assert body["stories"][0] == {"id": "st_1", "headline": "Переговори", "headline_lang": "uk",
                                  "score": 2.5, "articles": 3, "size": 7, "langs": ["en", "uk"],
                                  "outlets": ["Гомін"], "article_ids": ["a1"]}


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x", "limit": 101}, {"q": "x", "since": "nope"},
                                    {"q": "x" * 501}, {"q": "x", "lang": "<b>"}])
def test_search_bad_parameters(client, fake_search, params):
    assert_error(client.get("/api/search", params=params), 422, "invalid_request")
    assert fake_search == []


@pytest.mark.parametrize("q, lang", [
    ("пожежа ТЕС", "uk"),
    ("fire power plant", "en"),
    ("повінь Мукачево", "uk"),
])
def test_search_the_sample(client, q, lang):
    body = client.get("/api/search", params={"q": q}).json()
    assert body["total"] >= 1 and body["articles"] and body["stories"]
    own = [a for a in body["articles"] if a["lang"] == lang]
    assert own and all(any(seg["match"] for seg in a["snippet"] + a["title_snippet"]) for a in own)
    top = body["stories"][0]
    assert client.get(f"/api/stories/{top['id']}").status_code == 200


@pytest.mark.parametrize("lang", ["en", "ru", "uk"])
def test_search_language_filter(client, lang):
    body = client.get("/api/search", params={"q": "fire power plant", "lang": lang}).json()
    assert all(a["lang"] == lang for a in body["articles"])


def test_search_pages(client):
    page = client.get("/api/search", params={"q": "пожежа ТЕС", "limit": 1, "offset": 1}).json()
    whole = client.get("/api/search", params={"q": "пожежа ТЕС", "limit": 2}).json()
    assert page["articles"][0]["id"] == whole["articles"][1]["id"]


def test_search_for_hostile_text_is_just_a_query(client):
    body = client.get("/api/search", params={"q": '<script>alert(1)</script> " OR 1=1 --'}).json()
    assert body["query"] == '<script>alert(1)</script> " OR 1=1 --'


def test_search_refusals_from_the_engine_are_invalid_requests(client):
    response = client.get("/api/search", params={"q": "x", "since": "2021-12-02", "until": "2021-12-01"})
    assert_error(response, 422, "invalid_request")
    assert_error(client.get("/api/search", params={"q": "x", "offset": 20_000}), 422, "invalid_request")


# -- OpenAPI and docs --------------------------------------------------------------------------


API_ROUTES = {
    ("/api/stories", "get"), ("/api/stories/{story_id}", "get"), ("/api/events/{event_id}", "get"),
    ("/api/articles/{article_id}", "get"), ("/api/articles", "post"), ("/api/search", "get"),
    ("/api/health", "get"),
}


def test_openapi_lists_every_route_with_the_error_shape(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {(path, method) for path, ops in doc["paths"].items() for method in ops} == API_ROUTES
    error_ref = "#/components/schemas/ErrorResponse"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"]["200"]["content"]["application/json"]["schema"], (path, method)
            for status, response in op["responses"].items():
                if status != "200":
                    assert response["content"]["application/json"]["schema"]["$ref"] == error_ref
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    body = doc["paths"]["/api/articles"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson"} <= set(body)


def test_openapi_refs_resolve(client):
    doc = client.get("/openapi.json").json()
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    names = {f"#/components/schemas/{name}" for name in doc["components"]["schemas"]}
    assert refs and refs <= names


def test_docs_file_is_up_to_date():
    committed = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), (
        "docs/openapi.json is out of date: .venv/bin/python -c "
        "\"from storyline.app import write_openapi; write_openapi('docs/openapi.json')\"")


def test_docs_page_loads_nothing_from_elsewhere(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static-offline-docs/{asset}" in page.text
        assert client.get(f"/static-offline-docs/{asset}").status_code == 200


# -- storyline serve ---------------------------------------------------------------------------


@pytest.mark.parametrize("host, mode", [("127.0.0.1", "local"), ("0.0.0.0", "disabled")])
def test_serve_binds_and_prints_the_url(sample_db, monkeypatch, host, mode):
    seen = {}

    def run(app, **kwargs):
        seen.update(kwargs, mode=app.state.storyline.access.mode)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv("STORYLINE_API_TOKEN", raising=False)
    args = ["serve", "--db", f"sqlite:///{sample_db}", "--port", "8123"]
    result = CliRunner().invoke(main, args + (["--host", host] if host != "127.0.0.1" else []))
    assert result.exit_code == 0, result.output
    assert f"http://{host}:8123/" in result.output
    assert seen["host"] == host and seen["port"] == 8123 and seen["mode"] == mode


def test_serve_reads_the_token_from_the_environment(sample_db, monkeypatch):
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app))
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    result = CliRunner().invoke(main, ["serve", "--db", f"sqlite:///{sample_db}", "--token-env", "MY_TOKEN"])
    assert result.exit_code == 0, result.output
    assert "need the API token" in result.output and "s3cret" not in result.output
    assert seen["app"].state.storyline.access.token == "s3cret"
