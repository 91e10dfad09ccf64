"""Notifications: the bell (in-app, live), email by SMTP, and each member's preferences."""
