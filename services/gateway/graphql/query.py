"""GraphQL's queries: each reads through one client (`clients/`) and translates the reply into its types."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from messages import JobState

from .context import Context, authenticated
from .dataset_types import Dataset
from .errors import typed_errors
from .fine_tune_types import FineTuneJob, FineTuneStatus
from .types import Access, AdapterInfo, AdaptersInfo, ModelInfo, WebSearchResult


@strawberry.type
class Query:
    @strawberry.field(description="'ok' while the gateway is connected to NATS")
    def health(self, info: Info[Context, None]) -> str:
        return "ok" if info.context.clients.nc.is_connected else "degraded: NATS disconnected"  # open: no key needed

    @strawberry.field(
        description="What the caller's API key may do: role `admin` (everything) or `user` (chat and read)"
    )
    @typed_errors
    async def access(self, info: Info[Context, None]) -> Access:
        ctx = authenticated(info)
        assert ctx.role is not None
        return Access(role=ctx.role.value, keys_required=ctx.keys_required)

    @strawberry.field(description="The model an inference worker serves")
    @typed_errors
    async def model_info(self, info: Info[Context, None]) -> ModelInfo:
        return ModelInfo.of(await authenticated(info).clients.inference.info())

    @strawberry.field(description="Saved LoRA adapters and the active one (null: the base model)")
    @typed_errors
    async def adapters(self, info: Info[Context, None]) -> AdaptersInfo:
        listed = await authenticated(info).clients.adapters.list()
        return AdaptersInfo(
            available=[a.name for a in listed.adapters],
            active=listed.active,
            adapters=[AdapterInfo.of(a) for a in listed.adapters],
        )

    @strawberry.field(description="The latest fine-tune: the running job, else the most recent one")
    @typed_errors
    async def fine_tune_status(self, info: Info[Context, None]) -> FineTuneStatus:
        jobs = await authenticated(info).clients.training.jobs()
        queued = sum(1 for j in jobs if j.state is JobState.QUEUED)
        current = next((j for j in jobs if j.state is JobState.RUNNING), jobs[0] if jobs else None)
        if current is None:
            return FineTuneStatus(
                running=False, step=0, total_steps=0, loss=None, error=None, completed_adapter=None, queued=queued
            )
        return FineTuneStatus(
            running=current.state is JobState.RUNNING,
            step=current.step,
            total_steps=current.total_steps or 0,
            loss=current.loss_history[-1] if current.loss_history else None,
            error=current.error,
            completed_adapter=current.adapter if current.state is JobState.SUCCEEDED else None,
            job_id=current.spec.job_id,
            state=current.state.value,
            queued=queued,
        )

    @strawberry.field(description="Every fine-tune job, newest first, with its loss curve")
    @typed_errors
    async def fine_tune_jobs(self, info: Info[Context, None]) -> list[FineTuneJob]:
        return [FineTuneJob.of(job) for job in await authenticated(info).clients.training.jobs()]

    @strawberry.field(description="Every uploaded dataset, by name")
    @typed_errors
    async def datasets(self, info: Info[Context, None]) -> list[Dataset]:
        return [Dataset.of(d) for d in await authenticated(info).clients.datasets.all()]

    @strawberry.field(description="One uploaded dataset, with its first rows; null when there is none")
    @typed_errors
    async def dataset(self, info: Info[Context, None], name: str) -> Dataset | None:
        found = await authenticated(info).clients.datasets.get(name)
        return None if found is None else Dataset.of(found)

    @strawberry.field(description="Search the web (DuckDuckGo through the search service); raw results")
    @typed_errors
    async def web_search(
        self, info: Info[Context, None], query: str, max_results: int | None = None
    ) -> list[WebSearchResult]:
        found = await authenticated(info).clients.search.search(query, max_results)
        return [WebSearchResult(title=r.title, url=r.url, snippet=r.snippet) for r in found.results]
