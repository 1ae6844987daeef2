"""Composite PTransforms and DoFns of edms-migrate, one concern per module."""
