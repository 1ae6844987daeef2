"""What every command shares: one-line misuse, logging set-up and exit, text tables. Imports nothing above it."""
