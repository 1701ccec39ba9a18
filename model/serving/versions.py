"""The model's versions as TF Serving manages them: poll the base directory, load a new version
beside the served one, warm it up, switch to it, unload the old (the latest-version policy).

``ModelVersions.resolve`` is the one place REST and gRPC turn (name, version, label) into the
``Servable`` that answers; its typed errors carry TF Serving's statuses and wording.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from model.serving import metrics
from model.serving.servable import Servable, ServingError

log = logging.getLogger(__name__)


class State(StrEnum):
    """TF Serving's ``ModelVersionStatus.State`` names."""
    LOADING = "LOADING"
    AVAILABLE = "AVAILABLE"
    UNLOADING = "UNLOADING"
    END = "END"


class NotServed(ServingError):
    """No such model, or that version is not (or no longer) loaded: NOT_FOUND, 404."""

    def __init__(self, name: str, version: int | None) -> None:
        name = name[:100]  # the client's text, echoed: bounded
        request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
        super().__init__(404, f"Servable not found for request: {request}")


class UnknownLabel(ServingError):
    """A label the config does not define: TF Serving's INVALID_ARGUMENT, 400."""

    def __init__(self, label: str) -> None:
        super().__init__(400, f"Unrecognized servable version label: {label[:100]}")


class UnknownVersion(ServingError):
    """A status request for a version never seen (TF Serving's ``GetModelStatus``)."""

    def __init__(self, name: str, version: int | None) -> None:
        what = f"version {version}" if version is not None else "any versions"
        super().__init__(404, f"Could not find {what} of model {name[:100]}")


@dataclass
class _Version:
    state: State
    error: str = ""
    servable: Servable | None = None
    fingerprint: tuple = ()  # of the directory when its load failed: retried once it changes


def _fingerprint(path: Path) -> tuple:
    """What changes while a version directory is still being copied."""
    try:
        return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                            for p in path.rglob("*")))
    except OSError:  # a file vanished or is unreadable: retried once the listing reads again
        return ("unreadable",)


class ModelVersions:
    """Every version of one model: its state, and the servable of each AVAILABLE one."""

    def __init__(self, name: str, base_path: Path, labels: dict[str, int],
                 on_unload: Callable[[Servable], None] = lambda servable: None) -> None:
        self.name, self.base_path, self.labels = name, Path(base_path), labels
        self._on_unload = on_unload
        self._versions: dict[int, _Version] = {}
        self._served: int | None = None
        self._lock = threading.Lock()  # polled in a thread, read on the event loop

    def resolve(self, name: str, version: int | None = None,
                label: str | None = None) -> Servable:
        """The servable for a request: the latest, a specific version, or a labelled one.

        Raises ``NotServed`` (404) for another model or a version that is not AVAILABLE, and
        ``UnknownLabel`` (400) for a label the settings do not define.
        """
        if label is not None:
            if name != self.name or label not in self.labels:
                raise UnknownLabel(label)
            version = self.labels[label]
        with self._lock:
            wanted = self._served if version is None else int(version)
            entry = self._versions.get(wanted) if name == self.name else None
        if entry is None or entry.servable is None:
            raise NotServed(name, None if version is None else int(version))
        return entry.servable

    def status(self, name: str, version: int | None = None) -> dict:
        """``GetModelStatus``: every version seen, highest first, or the one asked for (TF
        Serving's get_model_status_impl looks at no version label)."""
        with self._lock:
            entries = dict(self._versions) if name == self.name else {}
        if version is not None:
            entries = {v: e for v, e in entries.items() if v == int(version)}
        if not entries:
            raise UnknownVersion(name, version)
        return {"model_version_status": [{
            "version": str(v), "state": str(e.state),
            "status": {"error_code": "UNKNOWN" if e.error else "OK", "error_message": e.error},
        } for v, e in sorted(entries.items(), reverse=True)]}

    def poll(self) -> None:
        """One look at the base directory (blocking: run it in a thread). The highest numeric
        version is loaded and warmed up beside the served one, then served; the old one is
        unloaded. A version that fails to load is logged and retried once its files change;
        the served one keeps serving meanwhile."""
        try:
            found = {int(p.name): p for p in self.base_path.iterdir()
                     if p.is_dir() and p.name.isdigit()}
        except OSError as exc:
            log.error("cannot list the model base path", extra={"path": str(self.base_path),
                                                                "reason": str(exc)})
            return
        if not found:
            return
        latest = max(found)
        with self._lock:
            entry = self._versions.get(latest)
            if latest == self._served or (entry and entry.state is State.LOADING):
                return
        fingerprint = _fingerprint(found[latest])
        if entry is not None and entry.error and entry.fingerprint == fingerprint:
            return
        self._load(latest, found[latest], fingerprint)

    def _load(self, version: int, path: Path, fingerprint: tuple) -> None:
        with self._lock:
            self._versions[version] = _Version(State.LOADING)
        try:
            servable = Servable(self.name, path)
        except Exception as exc:
            log.error("version failed to load; still serving the previous one",
                      extra={"model": self.name, "version": version, "reason": str(exc)[:500]})
            metrics.load_attempt(str(path), ok=False)
            with self._lock:
                self._versions[version] = _Version(
                    State.END, f"version {version} could not be loaded", fingerprint=fingerprint)
            return
        metrics.load_attempt(str(path), ok=True)
        with self._lock:
            self._versions[version] = _Version(State.AVAILABLE, servable=servable)
            old, self._served = self._served, version
            if old is not None:
                self._versions[old].state = State.UNLOADING
        log.info("serving version", extra={"model": self.name, "version": version})
        if old is not None:
            self._unload(old)

    def _unload(self, version: int) -> None:
        with self._lock:
            entry = self._versions[version]
            servable, entry.servable = entry.servable, None
        if servable is not None:
            self._on_unload(servable)  # requests already holding it finish on it
        with self._lock:
            entry.state = State.END
        log.info("version unloaded", extra={"model": self.name, "version": version})

    async def watch(self, interval: float) -> None:
        """Poll every ``interval`` seconds (TF Serving's ``--file_system_poll_wait_seconds``)
        until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.poll)
            except Exception:  # never let one bad look end the polling, nor the server
                log.exception("polling the model base path failed")
