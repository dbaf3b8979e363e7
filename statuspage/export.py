"""Static export of the public status page (filled in with the export command)."""


def export_on_change() -> None:
    """Re-export after a public change when STATUSPAGE_EXPORT_DIR is set (see export_statuspage)."""
