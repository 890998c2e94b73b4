"""Fetches the server jars from Maven Central and builds our MongoDB-protocol launcher.

Each step leaves a stamp recording what it was built from, so running it again is quick.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

from vsm_infra.paths import INFRA_DIR, JARS_DIR

logger = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.1"
MONGO_JAVA_SERVER_VERSION = "1.47.0"
KAFKA_POM = INFRA_DIR / "kafka" / "pom.xml"
MONGO_POM = INFRA_DIR / "mongo" / "pom.xml"
MONGO_LAUNCHER_SOURCE = INFRA_DIR / "mongo" / "MongoLauncher.java"
STAMP = ".complete"


def kafka_jars_dir() -> Path:
    return JARS_DIR / f"kafka-{KAFKA_VERSION}"


def mongo_jars_dir() -> Path:
    return JARS_DIR / f"mongo-java-server-{MONGO_JAVA_SERVER_VERSION}"


def mongo_launcher_dir() -> Path:
    return JARS_DIR / "mongo-launcher"


def install_all() -> None:
    """Makes sure both servers can be started: jars resolved, launcher compiled."""
    _resolve(KAFKA_POM, kafka_jars_dir(), {"kafka.version": KAFKA_VERSION})
    _resolve(MONGO_POM, mongo_jars_dir(), {"mongo-java-server.version": MONGO_JAVA_SERVER_VERSION})
    _compile_launcher()


def _fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _is_current(target: Path, fingerprint: str) -> bool:
    stamp = target / STAMP
    return stamp.is_file() and stamp.read_text().strip() == fingerprint


def _resolve(pom: Path, target: Path, properties: dict[str, str]) -> None:
    """Copies the runtime classpath of `pom` into `target` with Maven's dependency plugin."""
    props = [f"-D{key}={value}" for key, value in sorted(properties.items())]
    fingerprint = _fingerprint(pom.read_bytes(), " ".join(props).encode())
    if _is_current(target, fingerprint):
        return
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("resolving %s from Maven Central into %s", pom.parent.name, target)
    subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "-Dstyle.color=never",
            "-f",
            str(pom),
            *props,
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        check=True,
    )
    (staging / STAMP).write_text(fingerprint + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _compile_launcher() -> None:
    target = mongo_launcher_dir()
    fingerprint = _fingerprint(
        MONGO_LAUNCHER_SOURCE.read_bytes(), MONGO_JAVA_SERVER_VERSION.encode()
    )
    if _is_current(target, fingerprint):
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(
        [
            "javac",
            "-d",
            str(target),
            "-cp",
            f"{mongo_jars_dir()}/*",
            str(MONGO_LAUNCHER_SOURCE),
        ],
        check=True,
    )
    (target / STAMP).write_text(fingerprint + "\n")
