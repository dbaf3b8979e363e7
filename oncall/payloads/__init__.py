"""Readers of monitoring payloads (PagerDuty Events v2, Alertmanager webhook, generic): pure, shared by the
ingestion doors and the portal's rule tester so a sample is read exactly as a real event would be."""
