"""The HTTP API: one router per resource (stories and events, articles, search, health), the
one JSON error shape, request limits and write access. ``storyline.app.create_app`` mounts it."""
