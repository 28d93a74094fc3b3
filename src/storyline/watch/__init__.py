"""`storyline watch`: poll RSS/Atom feeds and pages politely and ingest what is new.

fetch.py is the polite HTTP client, feeds.py reads RSS/Atom, state.py keeps per-URL memory in the
store, schedule.py orders a round's requests host by host, loop.py is the watcher itself; cli.py
wraps it. Nothing is imported here, so that the
`storyline` command does not load an HTTP client and a feed parser for every other command."""
