"""Privacy: export and erase a contact's data (GDPR), and the retention purge."""
