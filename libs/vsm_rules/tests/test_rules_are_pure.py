"""vsm_rules is pure: it imports the standard library and itself, nothing else (no I/O clients)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import vsm_rules

SOURCE = Path(vsm_rules.__file__).parent


def test_vsm_rules_imports_only_the_standard_library_and_itself() -> None:
    foreign: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "vsm_rules" and top not in sys.stdlib_module_names:
                    foreign.append(f"{path.name}: {name}")
    assert foreign == []
