"""Respond: needs, allocation, registration and assistance, deduplication."""
