"""Partner API v1: maintenance windows."""
