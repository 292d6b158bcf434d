"""Achievements and experiences from provider feeds, with provenance and quarantine."""
