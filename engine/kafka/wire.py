"""What the worker's Kafka clients send, by request type, and the CPU that encoding the requests
and decoding their answers costs this process: `riec_kafka_requests_total{api}` and
`riec_kafka_request_cpu_seconds_total{api}`.

Why: most of a signal's cost in the engine is not its domain work (about 80 µs) but requests,
and which ones (a Fetch over 365 partner partitions costs 2.8 ms to build and read, even empty;
shared/design/performance.md). aiokafka has no hook for this, so its connection's `send` and
`_handle_frame` are wrapped once per process; the counting costs two clock reads per request.
"""

from __future__ import annotations

import time
from typing import Any

from aiokafka.conn import AIOKafkaConnection

from engine.metrics import Kinderen, Metrics

_installed: list[Metrics] = []


def _api(request: Any) -> str:
    """`FetchRequest_v4` and `FetchRequest` alike → `Fetch`."""
    name = type(request).__name__
    return name.split("Request", 1)[0] or name


def install(metrics: Metrics) -> None:
    """Count every request of every aiokafka connection in this process into `metrics` (the first
    call wins: one registry per worker)."""
    if _installed:
        return
    _installed.append(metrics)
    send, handle = AIOKafkaConnection.send, AIOKafkaConnection._handle_frame
    verzoeken, cpu = Kinderen(metrics.kafka_requests), Kinderen(metrics.kafka_request_cpu)

    def counted_send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        begin = time.perf_counter()
        try:
            return send(self, request, expect_response)
        finally:
            api = _api(request)
            verzoeken(api).inc()
            cpu(api).inc(time.perf_counter() - begin)

    def timed_handle(self: AIOKafkaConnection, resp: Any) -> Any:
        pending = self._requests[0][1] if self._requests else None
        begin = time.perf_counter()
        try:
            return handle(self, resp)
        finally:
            if pending is not None:
                cpu(_api(pending)).inc(time.perf_counter() - begin)

    AIOKafkaConnection.send = counted_send
    AIOKafkaConnection._handle_frame = timed_handle
