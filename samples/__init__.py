"""Deterministic synthetic legacy dumps (pages, blobs, a volume file and a manifest) for demos and tests.

Real patient documents can never be used outside the hospital, so everything here is drawn from a seeded RNG.
"""
