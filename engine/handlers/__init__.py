"""The Kafka edge: processing stages that consume, call the domain, and produce. Thin by design."""
