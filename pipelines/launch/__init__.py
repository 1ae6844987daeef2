"""Launching a run: the options, argv → plan → graph, the launcher, dry run, preflight, run record, OpenLineage."""
