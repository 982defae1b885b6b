# gitlab-ci-local's helper image: it copies sources into and artifacts out of the job's volume with
# `bash -c "... rsync ..."`. Its default helper image lives on a registry we cannot reach, so the tests
# build this one on the local base image (the Debian packages are reachable during `docker build`).
FROM python:3.12-slim
# hadolint ignore=DL3008  # a test fixture: any current rsync will do
RUN apt-get update \
    && apt-get install -y --no-install-recommends rsync \
    && rm -rf /var/lib/apt/lists/*
