"""What the core reports about its work (commands handled, deliveries, scheduled jobs), for metrics.

The core only calls this small interface; adapters/metrics.py turns it into Prometheus metrics. The
default does nothing, so tests and the console need no metrics at all.
"""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def command(self, platform: str, name: str, outcome: str, seconds: float) -> None:
        """A command, button or form handled: outcome is "ok", "refused" or "error"."""

    def delivery(self, kind: str, outcome: str, count: int = 1) -> None:
        """Scheduled sends: "sent", "recovered" (in doubt, verified), "skipped" (done before), "failed"."""

    def job(self, kind: str, lag_seconds: float, outcome: str) -> None:
        """A scheduled job ran `lag_seconds` after its time: outcome "ok" or "error"."""


class NoTelemetry:
    def command(self, platform: str, name: str, outcome: str, seconds: float) -> None:
        pass

    def delivery(self, kind: str, outcome: str, count: int = 1) -> None:
        pass

    def job(self, kind: str, lag_seconds: float, outcome: str) -> None:
        pass
