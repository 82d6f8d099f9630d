"""Atomic checkpoints: tensors in safetensors, everything else as JSON, in one file.

A checkpoint is any nested structure of dicts, lists, tensors, NumPy arrays and JSON values (a model's
``state_dict``, an optimizer's ``state_dict``, counters, RNG states).  Tensors are pulled out into a flat
safetensors table; the rest of the structure is stored as JSON in the safetensors header metadata.

Writes go to a temporary file in the same folder, are fsync'ed, then renamed over the target: a process
killed at any instant leaves either the old file or the new one, never a torn file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np

from ilya.core.errors import IlyaError

_META_KEY = "ilya_state"
_TENSOR = "__tensor__"
_NDARRAY = "__ndarray__"
_TUPLE = "__tuple__"


def _flatten(obj: Any, tensors: dict[str, Any], prefix: str) -> Any:
    import torch

    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        # safetensors refuses shared or non-contiguous storage: store an owned copy.
        tensors[key] = obj.detach().to("cpu").contiguous().clone()
        return {_TENSOR: key}
    if isinstance(obj, np.ndarray):
        key = f"t{len(tensors)}"
        arr = cast(Any, np).ascontiguousarray(obj).copy()
        tensors[key] = cast(Any, torch).from_numpy(arr)
        return {_NDARRAY: key}
    if isinstance(obj, dict):
        obj = cast(dict[Any, Any], obj)
        if not all(isinstance(k, (str, int)) for k in obj):
            raise TypeError(f"checkpoint keys must be str or int at {prefix or '<root>'}")
        # JSON turns int keys into strings: remember which were ints (optimizer state uses them).
        out = {str(k): _flatten(v, tensors, f"{prefix}.{k}") for k, v in obj.items()}
        int_keys = [str(k) for k in obj if isinstance(k, int)]
        if int_keys:
            out["__int_keys__"] = int_keys
        return out
    if isinstance(obj, (tuple, list)):
        items = [_flatten(v, tensors, f"{prefix}[{i}]") for i, v in enumerate(cast(list[Any], obj))]
        return {_TUPLE: items} if isinstance(obj, tuple) else items
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return cast(Any, obj).item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot checkpoint {type(obj).__name__} at {prefix or '<root>'}")


def _unflatten(obj: Any, tensors: dict[str, Any]) -> Any:
    if isinstance(obj, dict):
        obj = cast(dict[str, Any], obj)
        if _TENSOR in obj:
            return tensors[obj[_TENSOR]]
        if _NDARRAY in obj:
            return tensors[obj[_NDARRAY]].numpy()
        if _TUPLE in obj:
            return tuple(_unflatten(v, tensors) for v in obj[_TUPLE])
        int_keys: set[str] = set(obj.get("__int_keys__", ()))
        return {(int(k) if k in int_keys else k): _unflatten(v, tensors)
                for k, v in obj.items() if k != "__int_keys__"}
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in cast(list[Any], obj)]
    return obj


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_state(path: str | os.PathLike[str], state: Any) -> None:
    """Atomically write a nested structure of tensors, arrays and JSON values."""
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    skeleton = _flatten(state, tensors, "")
    data = save(tensors, metadata={_META_KEY: json.dumps(skeleton)})
    atomic_write_bytes(path, data)


def load_state(path: str | os.PathLike[str], map_location: str = "cpu") -> Any:
    """Read what `save_state` wrote; a damaged file is a user error naming the file."""
    from safetensors import SafetensorError, safe_open

    try:
        with cast(Any, safe_open)(str(path), framework="pt", device=map_location) as f:
            meta: dict[str, str] = f.metadata() or {}
            tensors: dict[str, Any] = {str(k): f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as e:
        raise IlyaError(f"not a readable checkpoint ({e})", file=path) from None
    if _META_KEY not in meta:
        raise IlyaError("not an ilya checkpoint (no state metadata)", file=path)
    return _unflatten(json.loads(meta[_META_KEY]), tensors)
