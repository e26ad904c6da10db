"""Progress on `train.progress.<job_id>` (core NATS, JSON): every step and every change of state."""

from __future__ import annotations

import contextlib

from nats.aio.client import Client

from messages import JobRecord, Progress, encode, subjects


async def publish_progress(
    nc: Client, record: JobRecord, loss: float | None = None, eval_loss: float | None = None
) -> None:
    """Tell watchers about `record`; progress is best effort (nobody may listen, NATS may be away)."""
    with contextlib.suppress(Exception):
        progress = Progress.of(record, loss, eval_loss)
        await nc.publish(subjects.train_progress_subject(record.spec.job_id), encode(progress))
