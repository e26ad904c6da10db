"""The inference worker over NATS: streaming, batching, cancel, adapters, grounding."""
