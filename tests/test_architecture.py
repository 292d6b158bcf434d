"""Import direction: faces import capabilities, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "john"
FACES = {"web", "cli"}

# Which capabilities each capability may import, besides the foundation
# modules (db, deps, errors, config, logs). Read as: key builds on the values.
ALLOWED = {
    "reference": set(),
    "auth": set(),
    "identity": {"reference"},
    "records": {"identity", "reference", "auth"},
    "lrs": {"records", "identity", "reference", "auth"},
    "consent": {"records", "identity", "reference", "auth"},
    "credentials": {"records", "identity", "reference", "consent", "auth"},
    "outcomes": {"records", "identity", "reference"},
    "catalogue": {"reference"},
    "pathways": {"records", "identity", "reference", "catalogue"},
    "access": {"catalogue", "reference", "auth"},
    "accounts": {"catalogue", "reference", "auth"},
    "coverage": {"catalogue", "reference"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "john" and len(parts) > 1:
                found.add(parts[1])
    return found


def _capabilities() -> list[str]:
    return sorted(
        p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    )


@pytest.mark.parametrize("package", _capabilities())
def test_capability_imports_point_down(package: str) -> None:
    if package in FACES or package == "migrations":
        return
    assert package in ALLOWED, f"add {package} to ALLOWED with what it builds on"
    allowed = ALLOWED[package] | {package, "db", "deps", "errors", "config", "logs"}
    for path in (SRC / package).rglob("*.py"):
        imported = _imported_packages(path)
        assert not imported & FACES, f"{path} imports a face: {imported & FACES}"
        assert imported <= allowed, f"{path} imports {imported - allowed}"
