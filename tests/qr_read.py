"""Reading a QR code as a phone's camera would: from a screenshot of it as Chromium draws it,
with OpenCV's QR detector (opencv-python-headless, the explainer's)."""
from __future__ import annotations

import time

import cv2
import numpy as np
from playwright.sync_api import Error as PlaywrightError


def decode(page, selector: str) -> str:  # noqa: ANN001 (a Playwright page)
    """The text of the QR code ``selector`` shows ("" when OpenCV finds none): black and white
    again (the edges of the scaled modules are grey), and if need be enlarged, module for
    module."""
    png = page.locator(selector).screenshot()
    grey = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    _, sharp = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    for image in (sharp, cv2.resize(sharp, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)):
        text, _points, _straight = cv2.QRCodeDetector().detectAndDecode(image)
        if text:
            return text
    return ""


def decode_shown(page, selector: str, timeout: float = 5.0) -> str:  # noqa: ANN001
    """``decode``, again until it reads a code or ``timeout`` seconds have passed: a page that
    redraws itself (the show's lobby, twice a second) may be caught mid-paint."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = decode(page, selector)
        except PlaywrightError:  # redrawn while its screenshot was taken: the next one
            text = ""
        if text or time.monotonic() > deadline:
            return text
        time.sleep(0.25)
