"""Generates the `vsm.*` Python modules (messages, gRPC stubs, .pyi stubs) from proto/.

Run by `make install` (`python libs/contracts/generate.py`); the output under
libs/contracts/src/vsm/ is git-ignored and never edited by hand. Re-running is quick: nothing is
regenerated while the protos and the generator are unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from importlib import resources
from importlib.metadata import version
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
OUT_DIR = Path(__file__).resolve().parent / "src"
PACKAGE_DIR = OUT_DIR / "vsm"
STAMP = PACKAGE_DIR / ".generated-from"


def _fingerprint(protos: list[Path]) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for tool in ("grpcio-tools", "protobuf"):  # new tools regenerate, so code matches runtime
        digest.update(f"{tool}=={version(tool)}".encode())
    for proto in protos:
        digest.update(str(proto.relative_to(PROTO_DIR)).encode())
        digest.update(proto.read_bytes())
    return digest.hexdigest()


def generate(force: bool = False) -> bool:
    """Regenerates when the protos changed; returns True if it did."""
    protos = sorted(PROTO_DIR.rglob("*.proto"))
    fingerprint = _fingerprint(protos)
    if not force and STAMP.is_file() and STAMP.read_text().strip() == fingerprint:
        return False
    shutil.rmtree(PACKAGE_DIR, ignore_errors=True)
    PACKAGE_DIR.mkdir(parents=True)
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        f"--python_out={OUT_DIR}",
        f"--pyi_out={OUT_DIR}",
        f"--grpc_python_out={OUT_DIR}",
        *(str(proto) for proto in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed: see the messages above")
    for folder in [PACKAGE_DIR, *(p for p in PACKAGE_DIR.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (PACKAGE_DIR / "py.typed").touch()
    STAMP.write_text(fingerprint + "\n")
    return True


if __name__ == "__main__":
    changed = generate(force="--force" in sys.argv)
    print("contracts generated" if changed else "contracts up to date")  # noqa: T201
