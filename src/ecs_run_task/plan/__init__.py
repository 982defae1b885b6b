"""From a spec and what AWS says of the task definition and service to the exact RunTask request."""
