"""Settings of the matching process: shared addresses from PlatformSettings, its own
under MATCHING_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main(); `MATCHING_ADDR` (default 127.0.0.1:50053) is where it serves."""

    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore", populate_by_name=True)

    database: str = "vsm_matching"
    # The consumer group whose members share the professions (one group per deployment).
    group: str = "vsm-matching"
    # Changes arriving within this many seconds are matched together.
    window_seconds: float = 0.05
    # The engine's time for one profession's re-match.
    solve_seconds: float = 0.5
    # An offer stands this long once it can be delivered.
    offer_minutes: float = 15.0
    # Unanswered offers are looked for this often ...
    expiry_seconds: float = 2.0
    # ... and every owned profession is re-optimised in full this often.
    reoptimise_seconds: float = 300.0

    @property
    def listen_addr(self) -> str:
        return self.matching_addr
