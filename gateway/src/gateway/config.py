"""Settings of the gateway process: the HTTP edge (GATEWAY_ADDR) and the partner gRPC API
(PARTNER_ADDR), its own fields under GATEWAY_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vsm_platform.settings import PlatformSettings


class Settings(PlatformSettings):
    """Read once in main()."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    database: str = "vsm_gateway"
    # Where people reach the pages; links in notifications start with it.
    public_url: str = "http://127.0.0.1:8000"
    # Session cookies are Secure (sent over HTTPS only) when the public address is https;
    # set true or false to decide otherwise.
    cookie_secure: bool | None = None
    session_hours: float = 12.0
    token_hours: float = 24.0 * 30
    reset_minutes: int = 60
    invitation_days: int = 7
    # Sign-in: this many failures for one email within the window refuses further tries.
    max_failed_attempts: int = 5
    attempt_window_minutes: int = 15
    # Retention: failed sign-in records are kept this long; the sweeper runs this often.
    attempts_kept_hours: float = 24.0
    sweep_seconds: float = 600.0
    # Notifications: the consumer group that turns events into them, how long before an
    # offer expires its reminder goes, and how often due reminders are looked for.
    notification_group: str = "vsm-gateway-notifications"
    remind_minutes: float = 5.0
    reminder_seconds: float = 20.0
    # The partner gRPC API (PARTNER_ADDR) serves TLS when both files are given (PEM).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # The development notification sink can be read at /v1/dev/outbox (never in production).
    dev_outbox: bool = False

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    @property
    def http_host(self) -> str:
        return self.gateway_addr.rsplit(":", 1)[0]

    @property
    def http_port(self) -> int:
        return int(self.gateway_addr.rsplit(":", 1)[1])
