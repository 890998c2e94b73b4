"""Settings of the matching process: shared addresses from PlatformSettings, its own
under MATCHING_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main(); `MATCHING_ADDR` (default 127.0.0.1:50053) is where it serves."""

    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", populate_by_name=True)

    database: str = "vsm_matching"

    @property
    def listen_addr(self) -> str:
        return self.matching_addr
