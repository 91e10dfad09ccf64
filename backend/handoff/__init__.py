"""Handoff: people taking conversations from the AI, assignment, presence and SLA policies."""
