"""Creates the declared topics on a broker (ours or an outside cluster), leaving existing ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from vsm_platform.topics import Topic, all_topics


async def ensure_topics(
    bootstrap: str, topics: Iterable[Topic] | None = None, replication_factor: int = 1,
    prefix: str | None = None,
) -> list[str]:  # fmt: skip
    """Creates each missing topic with its partitions and retention (every declared topic, under
    `prefix` when given); returns the names created."""
    wanted = list(all_topics(prefix) if topics is None else topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=topic.name,
                        num_partitions=topic.partitions,
                        replication_factor=replication_factor,
                        topic_configs=dict(topic.config),
                    )
                    for topic in missing
                ]
            )
            errors = [
                (name, code, message)
                for name, code, message, *_ in response.topic_errors
                if code not in (0, 36)  # 36: TOPIC_ALREADY_EXISTS (a racing creator)
            ]
            if errors:
                raise RuntimeError(f"could not create topics: {errors}")
            await _until_described(admin, [topic.name for topic in missing])
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def _until_described(
    admin: AIOKafkaAdminClient, names: list[str], seconds: float = 30.0
) -> None:
    """Waits until the broker describes every new topic with its leaders (a topic is readable
    a moment after its creation is acknowledged)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        described = await admin.describe_topics(names)
        if all(t["error_code"] == 0 and t["partitions"] and
               all(p["leader"] >= 0 for p in t["partitions"]) for t in described):  # fmt: skip
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"topics not readable after {seconds:g} s: {names}")


async def delete_topics_under(bootstrap: str, prefix: str) -> list[str]:
    """Deletes every topic whose name starts with `prefix` (a test run's own, never an empty
    prefix); returns their names. A broker that cannot be reached deletes nothing."""
    if not prefix:
        raise ValueError("a prefix is needed: this never deletes the shared topics")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()
