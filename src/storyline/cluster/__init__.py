"""Corpus stages that hold state and update incrementally: near-duplicates, vector index, events, stories."""
