# syntax=docker/dockerfile:1
# The base image pinned by digest: python:3.11-slim (3.11.15, Debian trixie) as the official image's
# index recorded it (docker-library/repo-info, repos/python/remote/3.11-slim.md). Move the tag and
# the digest together: `docker buildx imagetools inspect python:3.11-slim` prints the current one.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# The same lock as `python3 dev.py serve|test`: uv.lock pins every version with its hashes.
# The example adapter's pyproject.toml is there because it is a member of the locked workspace.
COPY dev.py uv.lock pyproject.toml README.md alembic.ini ./
COPY examples/payer-adapter/pyproject.toml ./examples/payer-adapter/
COPY app ./app
COPY migrations ./migrations
# uv at the version uv.lock pins, hash-checked by pip; then the service's runtime dependencies
# exactly as locked (no dev extra), and the service itself, into /opt/epa.
RUN python dev.py uv-requirement > /tmp/uv.txt \
 && pip install --no-cache-dir --require-hashes -r /tmp/uv.txt \
 && UV_PROJECT_ENVIRONMENT=/opt/epa UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    uv sync --locked --no-editable --no-cache --package epa-hub

FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 epa
COPY --from=build /opt/epa /opt/epa
USER epa
WORKDIR /home/epa
ENV PATH=/opt/epa/bin:$PATH \
    EPA_HOST=0.0.0.0 \
    EPA_PORT=8000 \
    EPA_DATA_DIR=/home/epa/data
EXPOSE 8000
# The probe asks the port the service listens on (EPA_PORT, also when a deployment changes it).
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import os,urllib.request,sys; port=os.environ.get('EPA_PORT','8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz').status != 200)"
ENTRYPOINT ["epa"]
CMD ["serve"]
