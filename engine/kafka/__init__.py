"""The Kafka edge: the exactly-once runtime (stages, fencing, quarantine, delivery, partition state,
tables) and the adapters that read and write Kafka for the other layers."""
