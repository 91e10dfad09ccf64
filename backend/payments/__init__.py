"""Payment providers: one adapter per provider behind one contract (`base.py`)."""
