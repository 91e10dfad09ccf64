"""The setup checklist a new business works through."""
