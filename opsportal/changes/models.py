"""Changes: maintenance windows, change freezes, deploy events (built in the maintenance issue)."""
