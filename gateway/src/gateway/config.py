"""Settings of the gateway process: the HTTP edge (GATEWAY_ADDR) and the partner gRPC API
(PARTNER_ADDR), its own fields under GATEWAY_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main()."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    database: str = "vsm_gateway"

    @property
    def http_host(self) -> str:
        return self.gateway_addr.rsplit(":", 1)[0]

    @property
    def http_port(self) -> int:
        return int(self.gateway_addr.rsplit(":", 1)[1])
