# One-shot job: copy the model's test split out of the dataset into the photo pool volume,
# leaving out the photos whose visible text names the car (tesseract reads any photo the
# committed image_server/text_scan.csv does not cover). Build from the repository root once
# the wheel set is in .cache/wheels (`make wheels`; no package index is asked):
#   docker build -f image_server/prepare.Dockerfile -t beat-the-ai/photo-pool .
FROM python:3.11-slim AS build
WORKDIR /src
COPY .cache/wheels /wheels
COPY pyproject.toml ./
COPY common common
COPY model_api model_api
COPY image_server image_server
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install -q --no-cache-dir --no-index --find-links /wheels '.[image-server]' \
    && /opt/venv/bin/pip uninstall -q -y beat-the-ai-cars \
    && find . -name __pycache__ -prune -exec rm -rf {} +

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /src/common common
COPY --from=build /src/model_api model_api
COPY --from=build /src/image_server image_server
# /srv/pool: a new named volume takes this folder's owner, so user nobody may fill it;
# .cache: the OCR verdicts of photos the committed scan does not cover.
RUN mkdir -p /srv/pool .cache && chown nobody /srv/pool .cache
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1
USER nobody
CMD ["python", "-m", "image_server.prepare"]
