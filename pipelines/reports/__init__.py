"""What a person reads: the end-of-run summary in a terminal, and the HTML report of a prefix's lineage."""
