# ecs-run-task: the CLI in a small image. Used by action.yml (GitHub) and as a job image (GitLab, others).
#
#   docker build --network host -t ecs-run-task .
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID ... ecs-run-task ecs-run-task --task-definition app
#
# No ENTRYPOINT on purpose: GitLab runs its job script through a shell in the job image, and action.yml
# names /app/entrypoint.py itself. No non-root user: GitHub mounts the workspace root-owned.

# ---- base: python:3.12-slim, pinned by digest (its multi-arch index), so a release is built on exactly this
# base; Dependabot (.github/dependabot.yml) proposes the new digest when the tag moves, and reads only a literal
# FROM line, hence no ARG here. Where no registry is reachable, a build starts from a local image instead, by
# naming it in this one line (tests/helpers.py's local_dockerfile does so for the tests, act and bench/):
#   sed -E 's/^(FROM )python:3.12-slim@sha256:[0-9a-f]+( AS base)$/\1python:3.12-slim\2/' Dockerfile \
#     | docker build --network host -t ecs-run-task -f - .
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea AS base

# ---- builder: a venv with the locked runtime dependencies and our package, then trimmed ----
FROM base AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# `python3 -m venv` in the same base as the final stage: the venv's interpreter link points at the base's
# python3 (/usr/local/bin/python3 in the official image), so /opt/venv works when copied unchanged.
RUN python3 -m venv /opt/venv

# Locked, hash-checked runtime dependencies first: this layer is reused while only src/ changes.
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

# Our package, without dependencies (all of them are in the lock). README.md is the package's readme; setup.py finds
# no sandbox/ here, so the image holds ecs_run_task alone (the playground is for people's machines).
WORKDIR /build
COPY pyproject.toml setup.py README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-deps . \
    && rm -rf /build/build /build/src/*.egg-info

# Trim. botocore ships the models of 400+ AWS services (~28 MB); .ci/trim-botocore.py keeps the ones we
# call, without their documentation strings, and only their entries in endpoints.json (less JSON to parse
# at start-up). Then drop pip/setuptools and type stubs, and precompile everything with hashes that are
# never re-checked (the image is immutable), so start-up reads .pyc files instead of compiling.
ARG KEEP_SERVICES="ecs logs ec2 sts"
COPY .ci/trim-botocore.py /tmp/trim-botocore.py
RUN set -eu; \
    site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))'); \
    /opt/venv/bin/python /tmp/trim-botocore.py "$site" $KEEP_SERVICES; \
    rm /tmp/trim-botocore.py; \
    /opt/venv/bin/python -m pip uninstall -q -y pip setuptools wheel 2>/dev/null || true; \
    rm -f /opt/venv/bin/pip /opt/venv/bin/pip3* /opt/venv/bin/Activate.ps1 /opt/venv/bin/activate.csh /opt/venv/bin/activate.fish; \
    find /opt/venv -depth \( -name '__pycache__' -o -name 'tests' -o -name '*.pyi' -o -name 'py.typed' \) -exec rm -rf {} +; \
    /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib; \
    /opt/venv/bin/python -c 'import botocore.session; s = botocore.session.get_session(); [s.create_client(n, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x") for n in "ecs logs".split()]'

COPY entrypoint.py /app/entrypoint.py
RUN chmod 0755 /app/entrypoint.py

# ---- final: the base plus /opt/venv and /app ----
FROM base

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

CMD ["ecs-run-task", "--help"]
