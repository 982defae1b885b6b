"""`python -m ecs_run_task`: the CLI."""

from ecs_run_task.cli import main

raise SystemExit(main())
