# Multi-stage build: wheels in a builder, a slim runtime running as a non-root user.
FROM python:3.11-slim AS builder
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY features ./features
COPY models ./models
COPY scoring ./scoring
COPY experiments ./experiments
COPY api ./api
COPY synth ./synth
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 credit
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER credit
WORKDIR /home/credit
ENV CREDIT_VAR_DIR=/home/credit/var
EXPOSE 8000
CMD ["credit", "serve", "--host", "0.0.0.0", "--port", "8000"]
