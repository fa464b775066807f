"""The one ingest pipeline: `sequence` puts the stages in order (discover -> fetch -> extract
-> segment and tag -> store -> index) with the executor passed in; `pipeline` holds the stage
functions, `listings` the listing pages, `commit` the store transaction, `nightly` the
incremental steps and the index catch-up, `report` the run report."""
