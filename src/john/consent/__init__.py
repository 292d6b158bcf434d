"""Consent, verification, fraud signals, the audit trail and subject access."""
