"""Creates the declared topics on a broker (ours or an outside cluster), leaving existing ones."""

from __future__ import annotations

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
        return [topic.name for topic in missing]
    finally:
        await admin.close()
