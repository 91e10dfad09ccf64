"""The AI engine: language, rules, retrieval-backed answers and the handoff decision."""
