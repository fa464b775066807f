"""What keeps a run safe, under every layer: one ingest at a time (`lock`), per-source limits
(`limits`), helper processes that die with their parent (`orphans`) and test pause points
(`testhooks`)."""
