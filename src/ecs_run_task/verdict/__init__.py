"""Task descriptions to an outcome (status, exit code, headline, hint), the failure catalogue, the outputs. Pure."""
