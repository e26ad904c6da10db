"""The search service: a fake backend over real NATS, reachability, ddgs offline."""
