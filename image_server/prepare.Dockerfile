# One-shot job: copy the model's test split out of the dataset into the photo pool volume,
# leaving out the photos whose visible text names the car (tesseract reads any photo the
# committed image_server/text_scan.csv does not cover).
#   docker build -f image_server/prepare.Dockerfile -t beat-the-ai/photo-pool .
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY common common
COPY model_api model_api
COPY image_server image_server
RUN pip install --no-cache-dir '.[image-server]'
CMD ["python", "-m", "image_server.prepare"]
