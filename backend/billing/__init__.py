"""Billing: the plan a business pays BizBot for, its limits and its Stripe subscription."""
