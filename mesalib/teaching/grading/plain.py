"""Plain data across the sandbox wall: a tagged JSON tree plus an uncompressed `.npz` for arrays.

Case arguments go from the grader to the sandboxed learner code this way, and answers come back
the same way. Only numbers, booleans, strings, None, lists, tuples, dicts with string keys, NumPy
scalars and NumPy arrays of booleans or numbers cross; nothing is pickled, and the reader checks
everything it is given (file type and size, JSON shape, array dtypes), because the writer of an
answers file is untrusted code.

In the JSON tree, JSON numbers, strings, booleans and null stand for themselves; containers and
NumPy values are objects with a tag under "#":

    {"#": "list", "v": [...]}   {"#": "tuple", "v": [...]}   {"#": "dict", "v": {"key": ...}}
    {"#": "np", "d": "<i8", "v": 3}          a NumPy scalar of that dtype
    {"#": "nd", "k": "a0"}                   the array stored under "a0" in the .npz
    {"#": "other", "type": "set"}            an answer that is not plain data (refused, not compared)
    {"#": "eq", "type": "Sneaky"}            an object whose class defines its own __eq__ (cheating)
    {"#": "raised", "type": "ValueError", "msg": "..."}   the call raised this exception
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import zipfile
from typing import Any

import numpy as np

__all__ = [
    "NotPlain",
    "PlainError",
    "Raised",
    "encode",
    "decode",
    "dumps",
    "loads",
    "read_regular_file",
    "custom_eq",
]

ARRAY_KINDS = "biuf"
MAX_DEPTH = 64
MAX_ITEMS = 2_000_000


class PlainError(ValueError):
    """Data that is not in the plain format (a damaged or forged file)."""


class NotPlain:
    """Stands, in the grader, for an answer that was not plain data; compares with nothing."""

    __slots__ = ("type_name", "claims_equality")

    def __init__(self, type_name: str, claims_equality: bool = False):
        self.type_name = type_name
        self.claims_equality = claims_equality

    def __repr__(self) -> str:
        return f"<not plain data: {self.type_name}>"

    def __eq__(self, other):
        return False

    __hash__ = None  # type: ignore[assignment]  # equal to nothing, so unhashable, as __eq__ implies


class Raised:
    """Stands, in the grader, for a call of the learner's function that raised an exception."""

    __slots__ = ("type_name", "message")

    def __init__(self, type_name: str, message: str):
        self.type_name, self.message = type_name, message

    def __repr__(self) -> str:
        return f"<raised {self.type_name}: {self.message}>"

    def __eq__(self, other):
        return False

    __hash__ = None  # type: ignore[assignment]  # equal to nothing, so unhashable, as __eq__ implies


def raised_tree(exc: BaseException) -> dict:
    try:
        message = str(exc)
    except Exception:
        message = "(the message could not be read)"
    return {"#": "raised", "type": type(exc).__name__[:100], "msg": message[:2000]}


def _learners_module(name) -> bool:
    """Whether a class's module is the learner's own: their namespace ("__main__"), a module made on
    the fly, or a file in the working directory. Library classes (numpy, torch, collections ...)
    with their own __eq__ are merely not plain data; a learner's class with one is a claim."""
    if not isinstance(name, str) or name == "__main__":
        return True
    if name == "builtins":
        return False
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    return (
        module is None or not isinstance(path, str) or os.path.abspath(path).startswith(os.getcwd() + os.sep)
    )


def custom_eq(cls: type) -> bool:
    """True when some class in `cls`'s MRO, written by the learner, defines __eq__ or __ne__."""
    for base in type.__getattribute__(cls, "__mro__"):
        namespace = type.__getattribute__(base, "__dict__")
        if "__eq__" in namespace or "__ne__" in namespace:
            if _generated_by_dataclass(namespace):
                continue
            if _learners_module(namespace.get("__module__", "builtins")):
                return True
    return False


def _generated_by_dataclass(namespace) -> bool:
    """A dataclass's generated __eq__ (compiled from a string) is not a claim of equality with anything."""
    if "__dataclass_fields__" not in namespace or "__ne__" in namespace:
        return False
    code = getattr(namespace.get("__eq__"), "__code__", None)
    return code is not None and code.co_filename == "<string>"


def _type_name(cls: type) -> str:
    try:
        name = type.__getattribute__(cls, "__qualname__")
    except Exception:
        name = "?"
    return str(name)[:100]


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.items = 0

    def encode(self, value: Any, depth: int = 0):
        self.items += 1
        if self.items > MAX_ITEMS:
            raise PlainError(f"more than {MAX_ITEMS:,} values")
        if depth > MAX_DEPTH:
            raise PlainError(f"nested deeper than {MAX_DEPTH} levels")
        cls = type(value)  # the real class; `value.__class__` could lie
        if value is None or cls in (bool, int, float, str):
            return value
        if custom_eq(cls):
            return {"#": "eq", "type": _type_name(cls)}
        if cls is np.ndarray:
            if value.dtype.kind not in ARRAY_KINDS or value.dtype.hasobject:
                return {"#": "other", "type": f"ndarray of dtype {value.dtype}"}
            key = f"a{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(value)
            return {"#": "nd", "k": key}
        if issubclass(cls, np.generic) and type.__getattribute__(cls, "__module__") == "numpy":
            dtype = np.dtype(cls)
            if dtype.kind not in ARRAY_KINDS:
                return {"#": "other", "type": f"numpy.{cls.__name__}"}
            return {"#": "np", "d": dtype.str, "v": value.item()}
        if issubclass(cls, bool):
            return bool(value)
        if issubclass(cls, int):  # IntEnum members and other int subclasses without their own __eq__
            return int.__index__(value)
        if issubclass(cls, float):
            return float.__float__(value)
        if issubclass(cls, str):
            return str.__str__(value)
        if issubclass(cls, tuple):  # named tuples too
            return {"#": "tuple", "v": [self.encode(v, depth + 1) for v in tuple.__iter__(value)]}
        if issubclass(cls, list):
            return {"#": "list", "v": [self.encode(v, depth + 1) for v in list.__iter__(value)]}
        if issubclass(cls, dict):
            out = {}
            for k in dict.__iter__(value):
                if type(k) is not str:
                    return {"#": "other", "type": "dict with keys that are not strings"}
                out[k] = self.encode(dict.__getitem__(value, k), depth + 1)
            return {"#": "dict", "v": out}
        return {"#": "other", "type": _type_name(cls)}


def encode(value: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """(JSON-able tree, arrays by key) for `value`; objects that are not plain become "other"/"eq" tags."""
    enc = _Encoder()
    return enc.encode(value), enc.arrays


def encode_many(values: list) -> tuple[list, dict[str, np.ndarray]]:
    enc = _Encoder()
    return [enc.encode(v) for v in values], enc.arrays


def decode(tree: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """The value a tree stands for; raises PlainError on anything that is not in the format."""
    if depth > MAX_DEPTH + 2:
        raise PlainError("nested too deep")
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if type(tree) is not dict:
        raise PlainError(f"unexpected JSON value of type {type(tree).__name__}")
    tag = tree.get("#")
    if tag in ("list", "tuple"):
        items = tree.get("v")
        if type(items) is not list:
            raise PlainError(f"{tag} without items")
        values = [decode(v, arrays, depth + 1) for v in items]
        return values if tag == "list" else tuple(values)
    if tag == "dict":
        items = tree.get("v")
        if type(items) is not dict:
            raise PlainError("dict without items")
        return {str(k): decode(v, arrays, depth + 1) for k, v in items.items()}
    if tag == "nd":
        key = tree.get("k")
        if key not in arrays:
            raise PlainError(f"array {key!r} is missing")
        return arrays[key]
    if tag == "np":
        try:
            dtype = np.dtype(str(tree.get("d")))
        except TypeError as exc:
            raise PlainError(f"bad dtype {tree.get('d')!r}") from exc
        value = tree.get("v")
        if dtype.kind not in ARRAY_KINDS or type(value) not in (bool, int, float):
            raise PlainError(f"bad NumPy scalar {tree!r:.80}")
        try:
            return dtype.type(value)
        except (OverflowError, ValueError) as exc:
            raise PlainError(f"bad NumPy scalar: {exc}") from exc
    if tag == "raised":
        return Raised(str(tree.get("type", "?"))[:100], str(tree.get("msg", ""))[:2000])
    if tag in ("other", "eq"):
        return NotPlain(str(tree.get("type", "?"))[:100], claims_equality=(tag == "eq"))
    raise PlainError(f"unknown tag {tag!r:.40}")


def contains_eq(value: Any, depth: int = 0) -> str | None:
    """The type name of the first object in `value` that claimed its own equality, else None."""
    if isinstance(value, NotPlain):
        return value.type_name if value.claims_equality else None
    if depth < MAX_DEPTH + 2 and isinstance(value, (list, tuple)):
        for v in value:
            found = contains_eq(v, depth + 1)
            if found:
                return found
    if depth < MAX_DEPTH + 2 and isinstance(value, dict):
        for v in value.values():
            found = contains_eq(v, depth + 1)
            if found:
                return found
    return None


def dumps(values: list, extra: dict | None = None) -> tuple[bytes, bytes]:
    """(JSON bytes, .npz bytes) holding `values` (and `extra`, plain JSON, alongside)."""
    trees, arrays = encode_many(values)
    text = json.dumps({"values": trees, **(extra or {})}, allow_nan=True).encode()
    buffer = io.BytesIO()
    # Uncompressed, no pickles for numeric dtypes. The ignore: numpy's stub types **kwds as if a key
    # could be its bool `allow_pickle`; the keys here are "a0", "a1", ...
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return text, buffer.getvalue()


def read_regular_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing symbolic links, FIFOs, devices and files over `max_bytes`."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PlainError(f"{os.fspath(path)} is not a regular file")
        if info.st_size > max_bytes:
            raise PlainError(
                f"{os.fspath(path)} holds {info.st_size:,} bytes, more than the limit of {max_bytes:,}"
            )
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise PlainError(f"{os.fspath(path)} grew past the limit of {max_bytes:,} bytes")
        return data
    finally:
        os.close(fd)


def load_arrays(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed .npz held in `data`, checked before anything is unpacked."""
    if not data:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if sum(i.file_size for i in infos) > max_bytes:
                raise PlainError("the arrays are larger than the limit")
            if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
                raise PlainError("compressed arrays are refused")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except PlainError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError (object arrays need pickles), EOFError ...
        raise PlainError(f"unreadable arrays ({type(exc).__name__}: {exc})") from exc
    for name, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.hasobject:
            raise PlainError(f"array {name} has dtype {array.dtype}")
    return arrays


def loads(text: bytes, arrays_data: bytes, max_bytes: int) -> tuple[list, dict]:
    """(values, the other JSON fields) from the two files written by `dumps`; raises PlainError."""
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PlainError(f"the answers are not valid JSON ({type(exc).__name__})") from exc
    if type(document) is not dict or type(document.get("values")) is not list:
        raise PlainError("the answers file has no list of values")
    arrays = load_arrays(arrays_data, max_bytes)
    try:
        values = [decode(tree, arrays) for tree in document["values"]]
    except RecursionError as exc:
        raise PlainError("nested too deep") from exc
    return values, {k: v for k, v in document.items() if k != "values"}
