"""Progress on `train.progress.<job_id>` (core NATS, JSON): every step and every change of state."""

from __future__ import annotations

import contextlib

from nats.aio.client import Client

from messages import JobRecord, Progress, encode, subjects


def progress_of(record: JobRecord, loss: float | None = None, eval_loss: float | None = None) -> Progress:
    """What `train.progress.<job_id>` carries for `record` (the last loss unless given; `eval_loss` only on
    the message of a step where an evaluation ran)."""
    if loss is None and record.loss_history:
        loss = record.loss_history[-1]
    return Progress(
        job_id=record.spec.job_id,
        state=record.state,
        step=record.step,
        total_steps=record.total_steps,
        loss=loss,
        queue_position=record.queue_position,
        error=record.error,
        adapter=record.adapter,
        stage=record.stage,
        eval_loss=eval_loss,
        best_step=record.best_step,
    )


async def publish_progress(
    nc: Client, record: JobRecord, loss: float | None = None, eval_loss: float | None = None
) -> None:
    """Tell watchers about `record`; progress is best effort (nobody may listen, NATS may be away)."""
    with contextlib.suppress(Exception):
        progress = progress_of(record, loss, eval_loss)
        await nc.publish(subjects.train_progress_subject(record.spec.job_id), encode(progress))
