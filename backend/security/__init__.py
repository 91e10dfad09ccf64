"""Security: API keys for the public REST API, and the audit log."""
