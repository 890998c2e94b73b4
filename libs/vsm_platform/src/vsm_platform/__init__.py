"""Shared platform code used by every process: topics, Kafka and MongoDB helpers."""
