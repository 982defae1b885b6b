"""Benchmarks for ecs-run-task against the sandbox, side by side with the AWS CLI (issue 7).

    .venv/bin/python -m bench [--runs N] [--latency 0.04] [--quick]

prints a table and writes docs/benchmarks.md. Never edits src/ or sandbox/: it drives the CLI as
a subprocess, the way users run it, and reads the sandbox's recorded calls and task stop times.
"""
