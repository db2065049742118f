"""Ingress domain logic: attribute, validate and pseudonymise partner messages. No Kafka here."""
