"""Partner API v1 for incidents: serializers check shape, views call the incident services and selectors."""
