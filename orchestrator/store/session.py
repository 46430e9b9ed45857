"""The database handles the layers above pass around: a session (one unit of work) and an engine.

Only store/ imports SQLModel / SQLAlchemy (an import-linter contract in pyproject.toml); services,
the API and the CLI hold these objects and hand them to the store's functions, never query them.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

__all__ = ["Engine", "Session"]
