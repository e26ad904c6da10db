"""The GraphQL schema: its queries (`query.py`), mutations (`mutation.py`) and subscriptions
(`subscription.py`), each translated onto the clients (`clients/`) or the generation layer (`generation.py`);
errors in `errors.py`, the context and its checks in `context.py`, the events' fast path in `event_plan.py`."""

from __future__ import annotations

from strawberry.extensions import ParserCache, ValidationCache

from ..http.metrics import OperationMetrics
from .errors import Schema
from .event_plan import PlannedEventExecutor
from .mutation import Mutation
from .query import Query
from .subscription import Subscription

DOCUMENT_CACHE_SIZE = 256  # distinct query texts whose parse and validation are kept (LRU, per process)

# events of a plain `inferStream` selection are projected by a plan, not executed one by one (event_plan.py);
# an app sends the same few documents again and again: parsing and validating one cost ~10 ms here (py-spy)
schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=PlannedEventExecutor,
    extensions=[
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        OperationMetrics,
    ],
)
