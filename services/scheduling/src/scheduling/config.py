"""Settings of the scheduling process: shared addresses from PlatformSettings, its own
under SCHEDULING_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main(); `SCHEDULING_ADDR` (default 127.0.0.1:50052) is where it serves."""

    model_config = SettingsConfigDict(
        env_prefix="SCHEDULING_", extra="ignore", populate_by_name=True
    )

    database: str = "vsm_scheduling"
    # The booking ledger: a lock not let go by then may be taken over (its holder died) ...
    lock_seconds: float = 30.0
    # ... a booking pending longer than this never completed; the sweeper frees its position ...
    pending_seconds: float = 60.0
    # ... and looks this often.
    sweep_seconds: float = 30.0

    @property
    def listen_addr(self) -> str:
        return self.scheduling_addr
