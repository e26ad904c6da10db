"""A started training actor in one frozen `Started`: what it opens when it starts (stream TRAIN_JOBS, KV
`training`, the datasets, Object Store `checkpoints`, the pull consumer every training worker shares), with
the settings and log its parts share."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.object_store import ObjectStore

from messages import subjects
from services.runtime import ActorContext, Settings, ensure_stream, open_object_store, when_ready

from .config import TrainingConfig
from .datasets import DatasetStore
from .records import JobStore


@dataclass(frozen=True)
class Started:
    """What the parts of a started training actor share; the NATS side exists only once `open_started` ran."""

    settings: Settings
    config: TrainingConfig
    log: logging.Logger
    nc: Client
    js: JetStreamContext
    store: JobStore  # the job records, KV `training`
    datasets: DatasetStore  # uploaded datasets
    checkpoints: ObjectStore  # <job_id>: a running job's last checkpoint
    pull: JetStreamContext.PullSubscription  # the workers' consumer of stream TRAIN_JOBS, bound


async def open_started(ctx: ActorContext, settings: Settings, config: TrainingConfig) -> Started:
    """Create or open what the actor uses, waiting while JetStream is not ready (`when_ready`).

    Raises SwitchboardError as `ensure_stream` does: BAD_REQUEST when NATS refuses a setting, UNAVAILABLE
    when JetStream does not answer."""
    replicas = ctx.settings.nats_replicas
    await ensure_stream(ctx.js, _job_stream(config, replicas), ctx.log)
    store = await JobStore.open(ctx.js, config.kv_history, ctx.log, replicas)
    datasets = await DatasetStore.open(ctx.js, ctx.log, replicas)
    checkpoints = await open_object_store(
        ctx.js,
        subjects.CHECKPOINTS_BUCKET,
        "<job_id>: a running fine-tune's last checkpoint",
        ctx.log,
        replicas=replicas,
    )
    pull = await _bind_consumer(ctx.js, config, ctx.log)
    return Started(
        settings=settings,
        config=config,
        log=ctx.log,
        nc=ctx.nc,
        js=ctx.js,
        store=store,
        datasets=datasets,
        checkpoints=checkpoints,
        pull=pull,
    )


def _job_stream(config: TrainingConfig, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=subjects.TRAIN_JOBS_STREAM,
        description="Fine-tune job specs, one message per job, removed when the job ends",
        subjects=[subjects.TRAIN_JOBS],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        max_msgs=config.max_queued,
        discard=DiscardPolicy.NEW,
        duplicate_window=120.0,
        num_replicas=replicas,
    )


async def _bind_consumer(
    js: JetStreamContext, config: TrainingConfig, log: logging.Logger
) -> JetStreamContext.PullSubscription:
    """The durable pull consumer every training worker shares: one job in flight at a time."""
    consumer = ConsumerConfig(
        durable_name=subjects.TRAIN_CONSUMER,
        description="the training workers: one job at a time, acked when it ends",
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=config.ack_wait_s,
        max_ack_pending=1,
        max_deliver=-1,
        filter_subject=subjects.TRAIN_JOBS,
    )

    async def bind() -> JetStreamContext.PullSubscription:
        await js.add_consumer(subjects.TRAIN_JOBS_STREAM, config=consumer)
        return await js.pull_subscribe_bind(durable=subjects.TRAIN_CONSUMER, stream=subjects.TRAIN_JOBS_STREAM)

    return await when_ready(bind, "stream TRAIN_JOBS's consumer", log)
