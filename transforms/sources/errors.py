"""Errors that stop a job before it starts: an index or a profile the job could not read at all."""


class ManifestError(Exception):
    """A manifest that cannot be read at all: the job stops before it starts, with one line."""


class ProfileError(ManifestError):
    """A profile that cannot be used: the job stops before it starts, with one line."""
