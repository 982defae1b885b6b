"""A run: start (once), the group lock, the waiting loop, the log tailer, signals and the no-orphan guard."""
