"""The domain: decisions, matching, routing rules, forgetting; pure functions over events, no Kafka,
no HTTP (the import contract in pyproject.toml holds it so)."""
