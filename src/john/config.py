"""Settings read from ``JOHN_*`` environment variables or a TOML file."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from john.errors import ConfigurationError


class Settings(BaseSettings):
    """Hub settings; the defaults serve a single-machine pilot."""

    model_config = SettingsConfigDict(env_prefix="JOHN_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder holding the embedded SQLite store and exports.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means SQLite in data_dir.",
    )
    reference_dir: Path | None = Field(
        default_factory=lambda: default_reference_dir(),
        description="Folder with the public reference files (registers, FEBRL).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = False
    slow_request_ms: int = 500
    secret_key: str | None = Field(
        default=None,
        description="Key for signing sessions and tokens; generated per data_dir.",
    )

    @property
    def sqlalchemy_url(self) -> str:
        """Return the store's URL, defaulting to ``data_dir/john.sqlite3``."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'john.sqlite3').resolve()}"

    def require_reference_dir(self) -> Path:
        """Return the reference folder, or raise ConfigurationError if none is set."""
        if self.reference_dir is None:
            raise ConfigurationError(
                "no reference folder: download the register files listed in "
                "docs/reference-data.md and set JOHN_REFERENCE_DIR to their folder"
            )
        return self.reference_dir


def default_reference_dir() -> Path | None:
    """Return the public data folder beside a source checkout, if there is one."""
    # This file is src/john/config.py, so parents[2] is the checkout and
    # parents[3] contains it. An installed package finds no such folder.
    candidate = Path(__file__).resolve().parents[3] / "shared" / "data"
    return candidate if candidate.is_dir() else None


def normalise_database_url(url: str) -> str:
    """Select the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def load_settings(config_file: Path | None = None) -> Settings:
    """Build settings from a TOML file and the environment.

    Environment variables win over the file, so one deployment file can be
    overridden per run.
    """
    path = config_file or (
        Path(os.environ["JOHN_CONFIG"]) if os.environ.get("JOHN_CONFIG") else None
    )
    values: dict[str, object] = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"configuration file {path} not found; create it or unset JOHN_CONFIG"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"configuration file {path} is not TOML: {exc}"
            ) from exc
    try:
        from_env = Settings()
        merged = {**values, **from_env.model_dump(exclude_unset=True)}
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(_setting_problem(error) for error in exc.errors())
        raise ConfigurationError(
            f"invalid setting {problems}; correct the environment variable"
            + (f" or {path}" if path is not None else "")
        ) from None


def _setting_problem(error: Any) -> str:
    name = "JOHN_" + "_".join(map(str, error["loc"])).upper()
    # A secret's value stays out of the message, which may reach a log.
    value = "" if "SECRET" in name else f"={str(error['input'])[:40]!r}"
    return f"{name}{value}: {error['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return load_settings()
