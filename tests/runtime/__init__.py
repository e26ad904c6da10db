"""The runtime every service shares: the actor, NATS users per service, metrics."""
