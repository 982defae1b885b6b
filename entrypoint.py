#!/usr/bin/env python3
from ecs_run_task.cli import main

raise SystemExit(main())
