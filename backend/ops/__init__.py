"""Running BizBot: metrics, the doctor, backups."""
