"""Choosing what a run migrates: outstanding documents only, in priority order, the finished ones never read."""
