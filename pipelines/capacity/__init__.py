"""Capacity planning: a calibration run on the real sources, scaled to a plan (`edms-migrate estimate`)."""
