"""The training service's Prometheus figures: fine-tune jobs by state, read from KV `training` at each
scrape (every worker sees the same records, so each reports the whole queue)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from messages import JobRecord, JobState


class TrainingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Gauge(
            "switchboard_training_jobs",
            "Fine-tune jobs in KV `training` by state (the same figure from every training worker)",
            ["state"],
            registry=registry,
        )

    def count_jobs(self, records: list[JobRecord]) -> None:
        """Set the jobs gauge from `records` (every state, zero included, so a state that empties shows 0)."""
        for state in JobState:
            self.jobs.labels(state.value).set(sum(1 for r in records if r.state is state))
