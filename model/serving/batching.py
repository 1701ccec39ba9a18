"""Merge concurrent requests for one signature into one model call.

TF Serving's ``--enable_batching`` does this in the official container; here five
single-photo requests arriving together cost one forward pass, not five. The model runs in
one worker thread, so the event loop keeps answering while it computes.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from model.serving.servable import ServingError, Signature


@dataclass
class _Call:
    inputs: dict[str, tf.Tensor]
    rows: int
    future: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Batcher:
    def __init__(self, max_batch_size: int, timeout_ms: float) -> None:
        self.max_batch_size = max_batch_size
        self.timeout = timeout_ms / 1000
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        # One queue per signature object: two versions' "serving_default" never share a batch.
        self._queues: dict[Signature, asyncio.Queue[_Call | None]] = {}
        self._workers: dict[Signature, asyncio.Task] = {}

    async def run(self, signature: Signature,
                  inputs: dict[str, tf.Tensor]) -> dict[str, np.ndarray]:
        batchable = all(info.shape and info.shape[0] is None for info in signature.inputs.values())
        rows = {int(t.shape[0]) for t in inputs.values()} if batchable else set()
        if len(rows) != 1:  # unbatched signature, or inputs of unequal length: run as is
            return await self._execute(signature, inputs)
        call = _Call(inputs, rows.pop())
        if signature not in self._queues:
            self._queues[signature] = asyncio.Queue()
            self._workers[signature] = asyncio.create_task(self._work(signature))
        await self._queues[signature].put(call)
        return await call.future

    async def _execute(self, signature: Signature, inputs: dict[str, tf.Tensor]):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, signature, inputs)

    async def _work(self, signature: Signature) -> None:
        queue = self._queues[signature]
        loop = asyncio.get_running_loop()
        retired = False
        while not retired:
            first = await queue.get()
            if first is None:
                break
            batch, rows = [first], first.rows
            deadline = loop.time() + self.timeout
            while rows < self.max_batch_size:
                try:
                    call = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
                if call is None:
                    retired = True
                    break
                batch.append(call)
                rows += call.rows
            # A request that timed out or went away while queued costs the model nothing.
            batch = [call for call in batch if not call.future.done()]
            if batch:
                await self._run_batch(signature, batch)

    def retire(self, signatures: Iterable[Signature]) -> None:
        """Let an unloaded version's workers finish what they hold, then end, so the old model
        is freed. Thread-safe: the version poller calls it from its thread."""
        self._loop.call_soon_threadsafe(self._retire, list(signatures))

    def _retire(self, signatures: list[Signature]) -> None:
        for signature in signatures:
            queue = self._queues.pop(signature, None)
            if queue is not None:
                queue.put_nowait(None)
                self._workers.pop(signature, None)

    async def _run_batch(self, signature: Signature, batch: list[_Call]) -> None:
        if len(batch) == 1:
            await self._settle(batch[0], self._execute(signature, batch[0].inputs))
            return
        merged = {k: tf.concat([c.inputs[k] for c in batch], axis=0) for k in batch[0].inputs}
        try:
            outputs = await self._execute(signature, merged)
        except ServingError:
            # One bad request (say, a corrupt photo) must not fail the others: run each alone.
            for call in batch:
                await self._settle(call, self._execute(signature, call.inputs))
            return
        except Exception as exc:
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(exc)
            return
        start = 0
        for call in batch:
            part = {k: v[start : start + call.rows] for k, v in outputs.items()}
            start += call.rows
            if not call.future.done():
                call.future.set_result(part)

    @staticmethod
    async def _settle(call: _Call, work) -> None:
        try:
            result = await work
        except Exception as exc:
            if not call.future.done():
                call.future.set_exception(exc)
        else:
            if not call.future.done():
                call.future.set_result(result)

    async def settle(self) -> None:
        """Wait for the model call under way, if any (the model runs one call at a time)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._executor.shutdown(wait=True)
