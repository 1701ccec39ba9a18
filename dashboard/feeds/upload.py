"""/upload's feed: the AI's answer for a visitor's own photo."""
from __future__ import annotations

import asyncio
from pathlib import Path

from dashboard import metrics
from dashboard.clients import Services
from dashboard.loop import Loop
from dashboard.prepare import explain_one
from dashboard.settings import Settings
from model_api.client import GradCam, Judged


class UploadFeed:
    def __init__(self, loop: Loop, services: Services, settings: Settings) -> None:
        self._loop, self._services = loop, services
        self._timeout = 2 * settings.request_timeout  # the Grad-CAM call, then the drawing
        self.keep_dir: Path | None = settings.keep_uploads  # None: photos are never written

    def classify(self, model_jpeg: bytes, preview_jpeg: bytes,
                 ) -> tuple[GradCam, Judged, bytes | None]:
        """The AI's top-5 for a visitor's photo, every class's probability (for the make's
        share) with the model's judgement of its answer (a car at all? sure?) and, drawn on
        ``preview_jpeg``, where it looked (None when the explainer could not draw it). Raises
        one of ``NOT_READY`` when the model does not answer in time."""
        async def both() -> tuple[GradCam, Judged, bytes | None]:
            (cam, overlay), judged = await asyncio.gather(
                explain_one(self._services, model_jpeg, preview_jpeg),
                self._services.model.judged([model_jpeg]))
            return cam, judged[0], overlay

        answer = self._loop.run(both(), timeout=self._timeout)
        metrics.uploads_classified.inc()
        return answer
