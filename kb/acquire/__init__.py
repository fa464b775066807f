"""Discover and fetch: the sources manifest and discovery (`sources`), and a source's bytes
with a fingerprint, from a file or over HTTP (`fetch`)."""
