"""The catalogue and orders: what the business sells and what customers order."""
