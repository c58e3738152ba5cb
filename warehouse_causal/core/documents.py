"""Reading documents a user (or an agent) hands over: analysis, plan and monitor files, metric
catalogs, reward models and the tools' arguments.

A document is data from outside, so reading it is bounded before anything is parsed or run:

* a path must name a **regular file** (checked on the open file descriptor, opened without
  blocking: a FIFO with no writer, ``/dev/zero`` or a directory is refused at once), and at most
  ``max_bytes`` + 1 bytes are read;
* the text must be UTF-8 (a leading byte-order mark is accepted and dropped) and not empty;
* its **shape** is bounded: nesting depth, entries of one list or mapping, and values in all (a
  YAML alias counts as many values as the node it repeats, so an alias bomb is refused while it is
  still a few hundred bytes of events, before it is expanded);
* YAML is read with PyYAML's safe loader (the C one when available): ``!!python/object`` and every
  other non-standard tag is an error, never an object.

:data:`DOCUMENT_LIMITS` (1 MB, depth 32, 1,000 entries per list or mapping, 100,000 values) holds
for every settings document and for the agent tools' arguments. Every failure is one
:class:`~warehouse_causal.core.errors.DocumentError` naming the file and, when known, the JSON
pointer of the offending entry.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse_causal.core.errors import DocumentError

__all__ = ["DOCUMENT_LIMITS", "Limits", "check_shape", "parse_document", "read_document", "read_text"]


@dataclass(frozen=True)
class Limits:
    """Bounds on one document: bytes of the file, nesting depth, entries of one list or mapping,
    and values in all (scalars and containers, an alias counted each time it is used)."""

    max_bytes: int = 1_000_000
    max_depth: int = 32
    max_items: int = 1_000
    max_values: int = 100_000


#: The path entry of a mapping's key node (keys are not addressed by JSON pointers).
_KEY = object()

#: Settings documents (analysis, plan, monitor, metric catalogs) and the agent tools' arguments.
DOCUMENT_LIMITS = Limits()


def _size(n: int) -> str:
    return f"{n / 1e6:g} MB" if n >= 1_000_000 else f"{n:,} bytes"


def read_text(path: str | Path, what: str, max_bytes: int = DOCUMENT_LIMITS.max_bytes) -> str:
    """The UTF-8 text of the regular file ``path`` (a BOM dropped), at most ``max_bytes`` bytes.

    Refused with a :class:`DocumentError` naming ``path``: a missing or unreadable file, a
    directory, anything that is not a regular file (FIFO, device, socket; checked on the opened
    descriptor, which is opened without blocking), a file over ``max_bytes``, text that is not
    UTF-8, an empty file."""
    source = str(path)
    # non-blocking: opening a FIFO with no writer returns at once (and is then refused by fstat)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(source, flags)
    except FileNotFoundError:
        raise DocumentError(f"The {what} file {source!r} does not exist.", source) from None
    except IsADirectoryError:
        raise DocumentError(f"The {what} file {source!r} is a directory, not a file.", source) from None
    except PermissionError:
        raise DocumentError(f"The {what} file {source!r} cannot be read (permission denied).",
                            source) from None
    except OSError as err:
        raise DocumentError(f"The {what} file {source!r} cannot be opened: {err.strerror or err}.",
                            source) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise DocumentError(f"The {what} file {source!r} is a directory, not a file.", source)
        if not stat.S_ISREG(mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise DocumentError(f"The {what} file {source!r} is {kind}; give a regular file.", source)
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as err:
        raise DocumentError(f"The {what} file {source!r} cannot be read: {err.strerror or err}.",
                            source) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise DocumentError(f"The {what} file {source!r} is larger than {_size(max_bytes)}, the limit for "
                            "such a document.", source)
    return decode(data, what, source)


def decode(data: bytes, what: str, source: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped); not UTF-8 or empty: a DocumentError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(f"The {what} file {source!r} is not UTF-8 text (byte {err.start} is "
                            f"{data[err.start:err.start + 1]!r}); is it a JSON or YAML document?",
                            source) from None
    if not text.strip():
        raise DocumentError(f"The {what} file {source!r} is empty.", source)
    return text


def _pointer(path: list[Any]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path if p is not _KEY)


def _shape_error(kind: str, where: str, path: list[Any], limits: Limits, found: int = 0) -> DocumentError:
    pointer = _pointer(path)
    at = f" at {pointer}" if pointer != "/" else ""
    if kind == "depth":
        message = (f"{where} is nested deeper than {limits.max_depth} levels{at}, the limit for such a "
                   "document.")
    elif kind == "items":
        what = "the document" if pointer == "/" else pointer
        message = (f"{where}: {what} has more than {limits.max_items:,} entries"
                   + (f" ({found:,})" if found else "") + f"; at most {limits.max_items:,} are accepted "
                   "in one list or mapping.")
    else:
        message = (f"{where} holds more than {limits.max_values:,} values in all (YAML aliases count "
                   f"each time they are used){at}.")
    return DocumentError(message, where, pointer)


def check_shape(value: Any, where: str, limits: Limits = DOCUMENT_LIMITS) -> None:
    """Refuse a parsed ``value`` nested deeper than ``limits.max_depth``, with a list or mapping of
    more than ``limits.max_items`` entries, or more than ``limits.max_values`` values in all
    (shared sub-objects counted each time they are reached). Iterative; stops at the first excess,
    so its cost is bounded by the limits, not by the value."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    values = 0
    while stack:
        item, path = stack.pop()
        values += 1
        if values > limits.max_values:
            raise _shape_error("values", where, path, limits)
        if isinstance(item, (Mapping, list, tuple)):
            if len(path) >= limits.max_depth:
                raise _shape_error("depth", where, path, limits)
            if len(item) > limits.max_items:
                raise _shape_error("items", where, path, limits, len(item))
            children = item.items() if isinstance(item, Mapping) else enumerate(item)
            stack.extend((child, [*path, key]) for key, child in children)


@dataclass
class _Frame:
    """An open YAML collection while its events are walked."""

    mapping: bool
    anchor: str | None
    events: int = 0  # child nodes so far (a mapping's keys and values both)
    values: int = 1  # values it expands to, itself included
    height: int = 0  # nesting of collections below it
    key: Any = None  # the last key of a mapping (the path of its next value)



class _YamlShape:
    """Walks the YAML events of a document (no objects built) and refuses one over ``limits``:
    depth, entries per collection, and values in all with every alias counted as the size of its
    anchor's node (what loading would expand it to), so an alias bomb stops here, unexpanded."""

    def __init__(self, where: str, limits: Limits):
        self.where, self.limits = where, limits
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, height) of its node
        self.frames: list[_Frame] = []
        self.path: list[Any] = []
        self.total = 0

    def position(self) -> Any:
        """The path entry of the next node: a list index, a mapping's key, or _KEY for a key."""
        if not self.frames:
            return _KEY
        frame = self.frames[-1]
        if frame.mapping:
            return frame.key if frame.events % 2 == 1 else _KEY
        return frame.events

    def count(self, values: int, height: int) -> None:
        """A finished child node of the innermost open collection."""
        if not self.frames:
            return
        frame = self.frames[-1]
        frame.events += 1
        frame.values += values
        frame.height = max(frame.height, height)
        entries = (frame.events + 1) // 2 if frame.mapping else frame.events
        if entries > self.limits.max_items:
            raise _shape_error("items", self.where, self.path, self.limits)

    def grow(self, values: int, depth: int, here: list[Any]) -> None:
        self.total += values
        if self.total > self.limits.max_values:
            raise _shape_error("values", self.where, here, self.limits)
        if depth > self.limits.max_depth:
            raise _shape_error("depth", self.where, here, self.limits)

    def leaf(self, event: Any, alias: bool) -> None:
        """A scalar, or an alias (as large as its anchor's node)."""
        values, height = self.anchors.get(event.anchor or "", (1, 0)) if alias else (1, 0)
        self.grow(values, len(self.frames) + height, [*self.path, self.position()])
        if not alias:
            if event.anchor:
                self.anchors[event.anchor] = (1, 0)
            if self.frames and self.frames[-1].mapping and self.frames[-1].events % 2 == 0:
                self.frames[-1].key = event.value
        self.count(values, height)

    def start(self, event: Any, mapping: bool) -> None:
        self.path.append(self.position())
        self.frames.append(_Frame(mapping, event.anchor))
        self.grow(1, len(self.frames), self.path)

    def end(self) -> None:
        frame = self.frames.pop()
        self.path.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.values, frame.height + 1)
        self.count(frame.values, frame.height + 1)

    def walk(self, text: str, loader_class: Any) -> None:
        import yaml

        loader = loader_class(text)
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                    self.leaf(event, isinstance(event, yaml.AliasEvent))
                elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                    self.start(event, isinstance(event, yaml.MappingStartEvent))
                elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                    self.end()
        finally:
            loader.dispose()


def _loader_class() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def parse_document(text: str, where: str, *, yaml_syntax: bool = False,
                   limits: Limits = DOCUMENT_LIMITS) -> Any:
    """Parse JSON (or YAML with ``yaml_syntax``) text within ``limits``; ``where`` names the
    document in errors. Malformed text, a non-standard YAML tag, or a shape over the limits: a
    :class:`DocumentError`."""
    if yaml_syntax:
        try:
            import yaml
        except ImportError as err:
            raise ImportError(f"YAML documents ({where}) need PyYAML: pip install 'warehouse_causal[yaml]' "
                              "(or write it as JSON).") from err
        loader = _loader_class()
        try:
            _YamlShape(where, limits).walk(text, loader)
            document = yaml.load(text, Loader=loader)  # a safe loader: SafeLoader or CSafeLoader
        except DocumentError:
            raise
        except yaml.constructor.ConstructorError as err:
            problem = getattr(err, "problem", "") or _short(err)
            tags = (" (only standard YAML types are read; tags such as !!python/object are refused)"
                    if "tag" in problem else "")
            raise DocumentError(f"{where} is not plain YAML data: {problem}{_mark(err)}{tags}.",
                                where) from None
        except yaml.YAMLError as err:
            raise DocumentError(f"{where} is not valid YAML: {_yaml_problem(err)}.", where) from None
        except (RecursionError, ValueError) as err:
            raise DocumentError(f"{where} cannot be read as YAML: {_short(err)}.", where) from None
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as err:
            raise DocumentError(f"{where} is not valid JSON: {err.msg} at line {err.lineno} column "
                                f"{err.colno}.", where) from None
        except RecursionError:
            raise DocumentError(f"{where} is nested deeper than {limits.max_depth} levels, the limit for "
                                "such a document.", where) from None
        except ValueError as err:  # e.g. an integer longer than Python converts
            raise DocumentError(f"{where} cannot be read as JSON: {_short(err)}.", where) from None
    check_shape(document, where, limits)
    return document


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _mark(err: Any) -> str:
    mark = getattr(err, "problem_mark", None)
    return f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""


def _yaml_problem(err: Any) -> str:
    problem = getattr(err, "problem", None)
    return f"{problem}{_mark(err)}" if problem else _short(err)


def read_document(path: str | Path, what: str, limits: Limits = DOCUMENT_LIMITS) -> dict[str, Any]:
    """A YAML (``.yaml``/``.yml``, needs PyYAML) or JSON file holding a mapping of ``what``, read
    within ``limits`` (module docstring)."""
    text = read_text(path, what, limits.max_bytes)
    yaml_syntax = Path(path).suffix.lower() in (".yaml", ".yml")
    document = parse_document(text, f"The {what} file {str(path)!r}", yaml_syntax=yaml_syntax, limits=limits)
    if not isinstance(document, dict):
        raise DocumentError(f"The {what} file {str(path)!r} must hold a mapping (an object of settings); it "
                            f"holds {type(document).__name__ if document is not None else 'nothing'}.",
                            str(path))
    return document
