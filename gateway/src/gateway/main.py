"""The gateway process: its one composition root. Settings, MongoDB (accounts, audit trail,
notifications), channels to the three services, the notification feed from the services'
events and its reminders, the retention sweeper and the HTTP server.
`python -m gateway.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import uvicorn
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import Clock, SystemClock
from vsm_platform.consumers import WorkConsumer
from vsm_platform.grpc_server import start_server
from vsm_platform.kafka import KafkaPublisher
from vsm_platform.mongo import connect
from vsm_platform.runtime import background, run_service
from vsm_platform.topics import LICENSING_EVENTS, MATCHING_EVENTS, SCHEDULING_EVENTS

from gateway.account_store import AccountStore
from gateway.api.deps import Gateway
from gateway.api_keys import ApiKeys
from gateway.app import create_app
from gateway.audit import AuditTrail
from gateway.config import Settings
from gateway.inward import Services
from gateway.live import LiveHub
from gateway.notification_feed import NotificationFeed
from gateway.notifications import StoredNotifications
from gateway.owners import Owners
from gateway.partner_api import SERVICE_NAME as PARTNER_SERVICE
from gateway.partner_api import PartnerApi
from gateway.partner_api import register as register_partner
from gateway.partner_stream import PartnerFeed
from gateway.passwords import Passwords

logger = logging.getLogger(__name__)


async def sweep(parts: Gateway) -> None:
    """Retention: expired sessions and one-time links, and old sign-in failures, on a
    schedule (offers expire in the matching service, locks in the scheduling service)."""
    kept = timedelta(hours=parts.settings.attempts_kept_hours)
    while True:
        try:
            swept = await parts.store.sweep(kept)
            if any(swept.values()):
                logger.info("retention sweep: %s", swept)
        except Exception:
            logger.warning("retention sweep failed; next round will retry", exc_info=True)
        await asyncio.sleep(parts.settings.sweep_seconds)


def tls_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS for the partner API when a certificate and its key are configured."""
    if not (settings.tls_cert_file and settings.tls_key_file):
        return None
    chain = Path(settings.tls_cert_file).read_bytes()
    key = Path(settings.tls_key_file).read_bytes()
    return grpc.ssl_server_credentials([(key, chain)])


async def remind(feed: NotificationFeed, every: float) -> None:
    while True:
        try:
            await feed.send_due_reminders()
            await feed.forget_closed(timedelta(days=1))
        except Exception:
            logger.warning("sending reminders failed; next round will retry", exc_info=True)
        await asyncio.sleep(every)


async def run(settings: Settings, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    client = connect(settings.mongodb_uri)
    db = client[settings.database]
    services = Services.connect(
        settings.licensing_addr, settings.scheduling_addr, settings.matching_addr
    )
    owners = Owners(services.scheduling, db["rows"])
    parts = Gateway(
        settings=settings, clock=clock,
        store=AccountStore(ChangeLog(db["changes"], source="gateway", clock=clock),
                           db["people"], db["rows"], clock),
        passwords=Passwords(), services=services,
        notifier=StoredNotifications(db["notifications"]), audit=AuditTrail(db["audit"], clock),
        live=LiveHub(owners), keys=ApiKeys(db["rows"], clock),
    )  # fmt: skip
    feed_topics = [MATCHING_EVENTS.name, SCHEDULING_EVENTS.name, LICENSING_EVENTS.name]
    partner_feed = PartnerFeed(settings.kafka_bootstrap, feed_topics, owners, db["seen"])
    partner = await start_server(
        settings.partner_addr,
        [register_partner(PartnerApi(parts.keys, services, owners, parts.store,
                                     partner_feed.events))],
        [PARTNER_SERVICE], tls_credentials(settings),
    )  # fmt: skip
    server = HttpServer(uvicorn.Config(
        create_app(parts), host=settings.http_host, port=settings.http_port,
        log_config=None, access_log=False, lifespan="off",
    ))  # fmt: skip
    dead_letters = KafkaPublisher(settings.kafka_bootstrap)
    await dead_letters.start()
    feed = NotificationFeed(parts.notifier, services.scheduling, owners, db["reminders"],
                            clock, settings.remind_minutes)  # fmt: skip
    events = WorkConsumer(
        settings.kafka_bootstrap,
        [MATCHING_EVENTS.name, SCHEDULING_EVENTS.name, LICENSING_EVENTS.name],
        settings.notification_group, feed.handle, applied=db["applied"],
        dead_letters=dead_letters,
    )  # fmt: skip
    followed = [MATCHING_EVENTS.name, SCHEDULING_EVENTS.name]
    tasks = background({
        "retention sweep": lambda: sweep(parts), "notification feed": events.run,
        "reminders": lambda: remind(feed, settings.reminder_seconds),
        "live hub": lambda: parts.live.follow(settings.kafka_bootstrap, followed),
    })  # fmt: skip
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await partner.stop()
        await dead_letters.stop()
        await services.close()
        await client.close()


class HttpServer(uvicorn.Server):
    """uvicorn's server, except that SIGTERM or SIGINT ends `serve()` and nothing more. uvicorn
    raises the signal again once it has stopped, which ended the process before the rest of its
    shutdown: the consumers, the partner server, and the telemetry's last spans (never sent to
    the OTLP endpoint)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        stops = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def main() -> None:
    settings = Settings()
    run_service("gateway", settings, lambda: run(settings))


if __name__ == "__main__":
    main()
