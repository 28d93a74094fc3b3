"""Checks of a store's events and stories against its articles, for tests of writers that could
leave them out of step (concurrent processes, updates, crashes)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text


def clustering_problems(url: str) -> list[str]:
    """Where the stored events and stories disagree with the articles: an event's members are
    not exactly the articles that name it, a story's not exactly the events under it, an article
    names a missing event or story, or its story is not its event's, or a cluster lists a member twice."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, event_id, story_id FROM articles")).all()
        clusters = {r.id: r for r in conn.execute(text("SELECT id, kind, parent_id, state FROM clusters"))}
    engine.dispose()
    problems = []
    by_event: dict[str, set[str]] = {}
    for article in rows:
        event = clusters.get(article.event_id)
        if event is None or article.story_id not in clusters:
            problems.append(f"article {article.id}: event {article.event_id} or story "
                            f"{article.story_id} is not stored")
            continue
        if event.parent_id != article.story_id:
            problems.append(f"article {article.id}: story {article.story_id}, its event's is "
                            f"{event.parent_id}")
        by_event.setdefault(article.event_id, set()).add(article.id)
    for cluster in clusters.values():
        listed = json.loads(cluster.state)["members"]
        if len(listed) != len(set(listed)):
            problems.append(f"{cluster.kind} {cluster.id} lists a member twice: {sorted(listed)}")
        members = set(listed)
        if cluster.kind == "event":
            expected = by_event.get(cluster.id, set())
        else:
            expected = {c.id for c in clusters.values() if c.kind == "event" and c.parent_id == cluster.id}
        if members != expected:
            problems.append(f"{cluster.kind} {cluster.id}: members {sorted(members)}, "
                            f"articles say {sorted(expected)}")
    return problems
