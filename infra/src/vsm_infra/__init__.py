"""Installs, starts and stops the real Kafka broker and MongoDB-protocol server."""
