"""Incidents: severities, lifecycle, roles, timeline and post-mortems (built in the incidents issue)."""
