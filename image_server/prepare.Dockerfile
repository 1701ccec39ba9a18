# One-shot job: copy the model's test split out of the dataset into the photo pool volume.
#   docker build -f image_server/prepare.Dockerfile -t beat-the-ai/photo-pool .
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY common common
COPY model/__init__.py model/contract.py model/dataset.py model/
COPY image_server image_server
RUN pip install --no-cache-dir '.[image-server]'
CMD ["python", "-m", "image_server.prepare"]
