"""The MongoDB-protocol server: mongo-java-server with its H2 backend, through our launcher."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsm_infra.install import mongo_jars_dir, mongo_launcher_dir
from vsm_infra.process import ManagedProcess


@dataclass(frozen=True, slots=True)
class MongoNode:
    """Where one MongoDB-protocol server listens and keeps its data, pid file and log."""

    data_dir: Path
    run_dir: Path
    host: str = "127.0.0.1"
    port: int = 27017
    name: str = "mongodb"

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def data_file(self) -> Path:
        return self.data_dir / "store.mv.db"

    @property
    def process(self) -> ManagedProcess:
        java = (
            "java",
            "-Xms64m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-cp",
            f"{mongo_launcher_dir()}:{mongo_jars_dir()}/*",
            "MongoLauncher",
            self.host,
            str(self.port),
            str(self.data_file),
        )
        return ManagedProcess(self.name, self.run_dir, java, marker=str(self.data_file))

    def start(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.process.start()
