"""Sign-in settings read from ``JOHN_*`` environment variables."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from john.config import Settings


class AuthSettings(BaseSettings):
    """Session, lockout, token and OpenID Connect settings."""

    model_config = SettingsConfigDict(env_prefix="JOHN_", extra="ignore")

    session_hours: float = Field(default=8.0, description="Session lifetime in hours.")
    lockout_failures: int = Field(
        default=5, description="Failed sign-ins in a row that lock an account."
    )
    lockout_minutes: float = Field(
        default=15.0, description="Minutes an account stays locked."
    )
    token_seconds: int = Field(
        default=300, description="Lifetime of an access token in seconds."
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies over HTTPS only; set behind TLS."
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; unset disables OIDC."
    )
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_redirect_uri: str | None = Field(
        default=None,
        description="Callback URL registered at the provider; default derives "
        "it from the request.",
    )
    oidc_scope: str = "openid email profile"

    @property
    def oidc_enabled(self) -> bool:
        """Return whether OpenID Connect sign-in is configured."""
        return bool(self.oidc_issuer and self.oidc_client_id)


def load_secret_key(settings: Settings) -> bytes:
    """Return the hub's secret key, creating ``data_dir/secret_key`` if needed.

    ``JOHN_SECRET_KEY`` wins; otherwise one random key per data folder keeps
    sessions valid across restarts.
    """
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip().encode("ascii")
