"""The conversation pipeline: inbound events to contacts, conversations, messages and replies."""
