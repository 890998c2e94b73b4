"""Fixtures shared by every test tree: the real servers (vsm_infra.testing)."""

pytest_plugins = ["vsm_infra.testing"]
