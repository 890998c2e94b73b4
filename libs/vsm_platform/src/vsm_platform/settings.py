"""Settings shared by every process. Each process has its own `Settings` subclass (in its
config.py) with an env prefix for its own fields; the addresses below are read by everyone under
their plain names, so one variable moves a service for all its callers.

| variable          | default                       |
|-------------------|-------------------------------|
| LICENSING_ADDR    | 127.0.0.1:50051               |
| SCHEDULING_ADDR   | 127.0.0.1:50052               |
| MATCHING_ADDR     | 127.0.0.1:50053               |
| PARTNER_ADDR      | 127.0.0.1:50054               |
| GATEWAY_ADDR      | 127.0.0.1:8000                |
| KAFKA_BOOTSTRAP   | 127.0.0.1:9092                |
| MONGODB_URI       | mongodb://127.0.0.1:27017/    |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# A 20,000-shift instance is about 10 MB; leave room for larger batches.
MAX_GRPC_MESSAGE_BYTES = 64 * 1024 * 1024
GRPC_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", MAX_GRPC_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE_BYTES),
)


class PlatformSettings(BaseSettings):
    """What every process reads: where the servers and the other services are, telemetry."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP")
    mongodb_uri: str = Field("mongodb://127.0.0.1:27017/", validation_alias="MONGODB_URI")
    licensing_addr: str = Field("127.0.0.1:50051", validation_alias="LICENSING_ADDR")
    scheduling_addr: str = Field("127.0.0.1:50052", validation_alias="SCHEDULING_ADDR")
    matching_addr: str = Field("127.0.0.1:50053", validation_alias="MATCHING_ADDR")
    partner_addr: str = Field("127.0.0.1:50054", validation_alias="PARTNER_ADDR")
    gateway_addr: str = Field("127.0.0.1:8000", validation_alias="GATEWAY_ADDR")
    # Standard OpenTelemetry variables: OTLP when an endpoint is set.
    otel_service_name: str | None = Field(None, validation_alias="OTEL_SERVICE_NAME")
    otel_exporter_otlp_endpoint: str | None = Field(
        None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_traces_exporter: str | None = Field(None, validation_alias="OTEL_TRACES_EXPORTER")
    # Spans as JSON lines in this file (for tests and local reading), when set.
    trace_file: str | None = Field(None, validation_alias="VSM_TRACE_FILE")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
