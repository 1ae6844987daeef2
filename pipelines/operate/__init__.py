"""Operating the programme: what is left to migrate (inventory, status) and the proof it is done (reconcile)."""
