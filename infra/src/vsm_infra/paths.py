"""Where infra keeps installed jars, server data and process files, relative to the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
INFRA_DIR = REPO_ROOT / "infra"
CACHE_DIR = REPO_ROOT / ".cache"
JARS_DIR = CACHE_DIR / "jars"
DATA_DIR = REPO_ROOT / ".data"
RUN_DIR = REPO_ROOT / ".run"
