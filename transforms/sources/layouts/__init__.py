"""Source layouts: each turns one legacy index file into DocumentRefs, streamed, never loaded whole."""
