"""What earlier runs and reconciliations left under a prefix, read back: used by operate/ and reports/."""
