"""An inference worker's Prometheus figures (answered on `metrics.scrape`, gathered by the gateway).

Names follow Prometheus's conventions and, where one exists, vLLM's figure of the same meaning
(`time_to_first_token_seconds`, `time_per_output_token_seconds`, requests running and waiting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# seconds from admission to the first token; and between two tokens of one answer (a decode step's share)
FIRST_TOKEN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TOKEN_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5)
# seconds to compile a constraint's grammar (a cached one takes about 0.1 ms; a 20-property schema about 8 ms)
COMPILE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


@dataclass(frozen=True)
class Occupancy:
    """What the worker holds now: requests decoding, admitted but not prefilled, and the admission limit."""

    running: int
    waiting: int
    capacity: int
    kv_cache_bytes: int


class InferenceMetrics:
    """Counters and histograms the worker updates, gauges read from `occupancy` at each scrape."""

    def __init__(self, registry: CollectorRegistry, occupancy: Callable[[], Occupancy]) -> None:
        self.requests = Counter(
            "switchboard_inference_requests",
            "Finished generations by how they ended (stop, length, cancelled, error)",
            ["finish_reason"],
            registry=registry,
        )
        self.refusals = Counter(
            "switchboard_inference_refusals",
            "Generate requests refused before they ran, by error code",
            ["code"],
            registry=registry,
        )
        self.prompt_tokens = Counter(
            "switchboard_inference_prompt_tokens", "Prompt tokens prefilled", registry=registry
        )
        self.generated_tokens = Counter("switchboard_inference_generated_tokens", "Tokens generated", registry=registry)
        self.time_to_first_token = Histogram(
            "switchboard_inference_time_to_first_token_seconds",
            "From admitting a request to publishing its first token",
            buckets=FIRST_TOKEN_BUCKETS,
            registry=registry,
        )
        self.time_per_output_token = Histogram(
            "switchboard_inference_time_per_output_token_seconds",
            "Between two published pieces of one answer",
            buckets=TOKEN_BUCKETS,
            registry=registry,
        )
        self.constrained = Counter(
            "switchboard_inference_constrained_requests",
            "Admitted generations with structured output, by constraint (json_schema, json_object, regex, choice)",
            ["kind"],
            registry=registry,
        )
        self.grammar_compile = Histogram(
            "switchboard_inference_grammar_compile_seconds",
            "Compiling a request's constraint into a grammar at admission (cache hits included)",
            ["kind"],
            buckets=COMPILE_BUCKETS,
            registry=registry,
        )
        self.adapter_loads = Counter(
            "switchboard_inference_adapter_loads",
            "Adapter versions applied to the model, by outcome (ok or the error code)",
            ["outcome"],
            registry=registry,
        )
        gauges = {
            "switchboard_inference_requests_running": ("Requests in the decode batch now", lambda o: o.running),
            "switchboard_inference_requests_waiting": ("Admitted requests not prefilled yet", lambda o: o.waiting),
            "switchboard_inference_max_concurrency": (
                "Requests admitted at most (INFERENCE_MAX_CONCURRENCY)",
                lambda o: o.capacity,
            ),
            "switchboard_inference_batch_occupancy_ratio": (
                "Requests decoding over the admission limit (0 to 1)",
                lambda o: o.running / o.capacity if o.capacity else 0.0,
            ),
            "switchboard_inference_kv_cache_bytes": (
                "Bytes the batch's KV cache holds now",
                lambda o: o.kv_cache_bytes,
            ),
        }
        for name, (documentation, read) in gauges.items():
            gauge = Gauge(name, documentation, registry=registry)
            gauge.set_function(lambda read=read: float(read(occupancy())))  # type: ignore[misc]
