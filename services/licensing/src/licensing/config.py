"""Settings of the licensing process: shared addresses from PlatformSettings, its own
under LICENSING_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main(); `LICENSING_ADDR` (default 127.0.0.1:50051) is where it serves."""

    model_config = SettingsConfigDict(
        env_prefix="LICENSING_", extra="ignore", populate_by_name=True
    )

    database: str = "vsm_licensing"

    @property
    def listen_addr(self) -> str:
        return self.licensing_addr
