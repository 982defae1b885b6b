"""End-to-end runs the way users' platforms run ecs-run-task: act (GitHub Actions) and gitlab-ci-local."""
