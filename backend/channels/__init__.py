"""Channel adapters: one module per channel behind one protocol (see base.py)."""
