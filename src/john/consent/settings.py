"""Consent and verification settings read from ``JOHN_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsentSettings(BaseSettings):
    """Rate limits for verifiers."""

    model_config = SettingsConfigDict(env_prefix="JOHN_", extra="ignore")

    verification_rate_per_minute: float = Field(
        default=120.0, description="Verification requests a verifier may make a minute."
    )
    verification_burst: int = Field(
        default=30, description="Requests a verifier may make at once before waiting."
    )
