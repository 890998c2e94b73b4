"""OpenTelemetry, configured once per process from the standard OTEL_* variables.

Spans go to OTLP over HTTP when an endpoint is set, and as JSON lines to a file when
VSM_TRACE_FILE is set (tests read it back); both may be on. PyMongo calls (including
AsyncMongoClient's) get spans through the PyMongo command-monitoring instrumentation; gRPC,
Kafka and HTTP spans come from our server, channel, relay and consumer helpers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from vsm_platform.settings import PlatformSettings


class JsonLinesSpanExporter(SpanExporter):
    """Writes each finished span as one JSON object per line (trace id, span id, parent, name)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_to_dict(span), sort_keys=True) for span in spans]
        with self._lock, self._path.open("a") as out:
            out.writelines(line + "\n" for line in lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_to_dict(span: ReadableSpan) -> dict[str, object]:
    context = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "trace_id": f"{context.trace_id:032x}" if context else None,
        "span_id": f"{context.span_id:016x}" if context else None,
        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
    }


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


@dataclass(slots=True)
class Telemetry:
    """The configured provider; `shutdown()` flushes every span."""

    provider: TracerProvider

    def shutdown(self) -> None:
        self.provider.force_flush()
        self.provider.shutdown()


_pymongo_instrumented = False


def configure_telemetry(service_name: str, settings: PlatformSettings) -> Telemetry:
    """Sets this process's tracer provider from the settings; call once, in main()."""
    global _pymongo_instrumented
    resource = Resource.create({"service.name": settings.otel_service_name or service_name})
    provider = TracerProvider(resource=resource)
    if settings.otel_traces_exporter != "none":
        if settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        if settings.trace_file:
            exporter = JsonLinesSpanExporter(Path(settings.trace_file))
            provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if not _pymongo_instrumented:
        PymongoInstrumentor().instrument()
        _pymongo_instrumented = True
    return Telemetry(provider)


def current_trace_context() -> dict[str, str]:
    """The W3C trace context of the current span, to store with a change row or send along."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: dict[str, str]) -> Context:
    """A context that continues the trace described by `carrier` (traceparent, tracestate)."""
    return propagate.extract(carrier)
