"""Schemathesis hooks for scripts/fuzz-rest.sh (schemathesis 4.x).

Loaded through SCHEMATHESIS_HOOKS. Two things:

1. The check `connect_server_error`, used instead of schemathesis's
   `not_a_server_error`: a 5xx fails, except a 500 to a request body that Kafka
   Connect cannot deserialize either. Connect reads bodies with Jackson and does
   not map its errors (malformed JSON, wrong shapes, unknown fields) to 400; a
   missing or null body, or a create request without `name`/`config`, ends in a
   NullPointerException: all 500 upstream (docs/compatibility.md). Offsets it
   reads but refuses (non-primitive values, or what FileStreamSourceConnector's
   alterOffsets rejects) are 500 upstream too. Whether
   Connect would fail is decided here from the bytes sent, independently of what
   Ferry answered. Everything else in 5xx (including 500 `Request timed out`,
   which means the worker hung for 90 s) is a failure.

2. Requests that reach real resources. Every other set of path parameters names
   the file connector the script created (never for DELETE /connectors/{connector},
   so it survives the run; `before_call` also redirects such a DELETE that a
   stateful link fills in), one of three throw-away connectors, a real plugin or
   a real logger. Every other create, config, validate and offsets body is
   replaced by a valid one when sent, so connectors really get created,
   reconfigured, stopped, their offsets altered and deleted. A valid create gets
   a fresh name while fewer than MAX_CREATED such connectors exist, so it answers
   201 and the stateful phase can follow the spec's links from it (status,
   pause, stop, offsets, delete, ...). Both limits bound what the worker
   accumulates.

Environment (set by scripts/fuzz-rest.sh):
  FERRY_FUZZ_CONNECTOR  name of the connector that must survive
  FERRY_FUZZ_FILE       input file for generated FileStreamSource configs
  FERRY_FUZZ_TOPIC      topic for generated FileStreamSource configs
"""

from __future__ import annotations

import json
import os
import threading
import zlib

import schemathesis

REAL = os.environ.get("FERRY_FUZZ_CONNECTOR", "fuzz-file-source")
FILE = os.environ.get("FERRY_FUZZ_FILE", "/tmp/ferry-fuzz-input.txt")
TOPIC = os.environ.get("FERRY_FUZZ_TOPIC", "ferry-fuzz")
THROWAWAY = ["fuzz-a", "fuzz-b", "fuzz-c"]
SOURCE_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
PLUGINS = [
    "FileStreamSource",
    "FileStreamSourceConnector",
    SOURCE_CLASS,
    "org.apache.kafka.connect.file.FileStreamSinkConnector",
]
LOGGERS = ["root", "org.apache.kafka.connect", "ferry_rest"]


# --- 1. The 5xx check ------------------------------------------------------------------

class _Malformed(Exception):
    pass


def _decode(raw: bytes) -> str:
    """The body as text, its encoding detected from the first bytes like Jackson does.

    A byte order mark, else where the zero bytes among the first four are (JSON text
    starts with an ASCII character): UTF-32, UTF-16 or UTF-8.
    """

    def utf16(first: int) -> str | None:
        if first & 0xFF00 == 0:
            return "utf-16-be"
        if first & 0x00FF == 0:
            return "utf-16-le"
        return None

    encoding, skip = "utf-8", 0
    if len(raw) >= 4:
        quad = int.from_bytes(raw[:4], "big")
        if quad == 0x0000FEFF:
            encoding, skip = "utf-32-be", 4
        elif quad == 0xFFFE0000:
            encoding, skip = "utf-32-le", 4
        elif quad in (0x0000FFFE, 0xFEFF0000):
            raise _Malformed("UCS-4 in an unsupported byte order")
        elif quad >> 16 == 0xFEFF:
            encoding, skip = "utf-16-be", 2
        elif quad >> 16 == 0xFFFE:
            encoding, skip = "utf-16-le", 2
        elif quad >> 8 == 0xEFBBBF:
            encoding, skip = "utf-8", 3
        elif quad >> 8 == 0:
            encoding = "utf-32-be"
        elif quad & 0x00FFFFFF == 0:
            encoding = "utf-32-le"
        elif quad & ~0x00FF0000 & 0xFFFFFFFF == 0 or quad & ~0x0000FF00 & 0xFFFFFFFF == 0:
            raise _Malformed("UCS-4 in an unsupported byte order")
        else:
            encoding = utf16(quad >> 16) or "utf-8"
    elif len(raw) >= 2:
        encoding = utf16(int.from_bytes(raw[:2], "big")) or "utf-8"
    body = raw[skip:]
    if encoding.startswith("utf-16"):
        # Java's decoder turns what does not decode into U+FFFD.
        return body.decode(encoding, errors="replace")
    if encoding.startswith("utf-32"):
        if len(body) % 4:
            raise _Malformed("UTF-32 cut short")
        order = "big" if encoding.endswith("be") else "little"
        chars = []
        for i in range(0, len(body), 4):
            code = int.from_bytes(body[i : i + 4], order)
            if code > 0x10FFFF:
                raise _Malformed(f"invalid UTF-32 character 0x{code:x}")
            chars.append("\ufffd" if 0xD800 <= code < 0xE000 else chr(code))
        return "".join(chars)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Malformed(f"not UTF-8: {e}") from e


def _first_json_value(raw: bytes):
    """The first JSON value of the body, as Jackson reads it (trailing content ignored).

    Empty bodies read as None (Jersey passes null). Raises _Malformed when Jackson
    could not parse it. Lone surrogate escapes are fine (Java strings hold them).
    """
    text = _decode(raw).lstrip(" \t\r\n")
    if not text:
        return None

    def no_constant(name):
        raise _Malformed(f"non-standard token {name}")

    try:
        value, _end = json.JSONDecoder(parse_constant=no_constant).raw_decode(text)
    except json.JSONDecodeError as e:
        raise _Malformed(str(e)) from e
    except RecursionError as e:
        raise _Malformed("nested too deeply") from e
    return value


def _scalar(v) -> bool:
    """Jackson reads null, strings, numbers and booleans into a String."""
    return v is None or isinstance(v, (str, int, float, bool))


def _string_map(v) -> str | None:
    """Why Jackson could not read `v` as Map<String, String>, or None if it can."""
    if not isinstance(v, dict):
        return f"not an object: {type(v).__name__}"
    for k, item in v.items():
        if not _scalar(item):
            return f"value of {k!r} is a {type(item).__name__}"
    return None


def _create_request(v) -> str | None:
    if v is None:
        return "null body (NullPointerException)"
    if not isinstance(v, dict):
        return f"not an object: {type(v).__name__}"
    for k in v:
        if k not in ("name", "config", "initial_state"):
            return f"unknown field {k!r}"
    if not _scalar(v.get("name")) or not _scalar(v.get("initial_state")):
        return "name or initial_state is not a scalar"
    if v.get("name") is None:
        return "no name (createRequest.name().trim() throws NullPointerException)"
    state = v.get("initial_state")
    if state is not None:
        text = json.dumps(state) if not isinstance(state, str) else state
        if text.upper() not in ("RUNNING", "PAUSED", "STOPPED"):
            return f"initial_state {state!r} is no InitialState"
    if v.get("config") is None:
        return "no config (NullPointerException)"
    return _string_map(v["config"])


def _offsets(v) -> str | None:
    if v is None:
        return "null body (NullPointerException)"
    if not isinstance(v, dict):
        return f"not an object: {type(v).__name__}"
    for k in v:
        if k != "offsets":
            return f"unknown field {k!r}"
    items = v.get("offsets")
    if items is None:
        return None
    if not isinstance(items, list):
        return f"offsets is a {type(items).__name__}"
    for item in items:
        if item is None:
            return "null offset entry (ConnectorOffsets.toMap throws NullPointerException)"
        if not isinstance(item, dict):
            return f"offset entry is a {type(item).__name__}"
        for k, part in item.items():
            if k not in ("partition", "offset"):
                return f"unknown field {k!r} in an offset entry"
            if part is not None and not isinstance(part, dict):
                return f"{k} is a {type(part).__name__}"
    return _offsets_refused(items)


_LONG = range(-(2**63), 2**63)


def _offsets_refused(items: list) -> str | None:
    """Connect's 500 to offsets it reads but refuses to store, for the FileStreamSource
    connectors this script alters: the request is collected into a map (a later entry for
    a partition wins), OffsetUtils.validateFormat wants primitive values, then
    FileStreamSourceConnector.alterOffsets checks every non-null offset."""
    collected: list[tuple[dict, dict | None]] = []
    for item in items:
        partition, offset = item.get("partition"), item.get("offset")
        if partition is None:
            return None  # 400 "Source partitions may not be null"
        for i, (p, _) in enumerate(collected):
            if p == partition:
                collected[i] = (p, offset)
                break
        else:
            collected.append((partition, offset))
    for partition, offset in collected:
        for m in (partition, offset or {}):
            for k, val in m.items():
                if isinstance(val, (list, dict)) or (
                    isinstance(val, int) and not isinstance(val, bool) and val not in _LONG
                ):
                    return f"field {k!r} is no primitive (OffsetUtils.validateFormat)"
    for partition, offset in collected:
        if offset is None:
            continue
        if "position" not in offset:
            return "offset without 'position' (FileStreamSourceConnector.alterOffsets)"
        position = offset["position"]
        if isinstance(position, bool) or not isinstance(position, int):
            return "'position' is no Long (FileStreamSourceConnector.alterOffsets)"
        if position < 0:
            return "negative 'position' (FileStreamSourceConnector.alterOffsets)"
        if "filename" not in partition:
            return "partition without 'filename' (FileStreamSourceConnector.alterOffsets)"
    return None


def _config_body(v) -> str | None:
    if v is None:
        return "null body (NullPointerException)"
    return _string_map(v)


# (METHOD, path template) -> reason Connect fails to read the body, or None.
_BODY_READERS = {
    ("POST", "/connectors"): _create_request,
    ("PUT", "/connectors/{connector}/config"): _config_body,
    ("PATCH", "/connectors/{connector}/config"): _config_body,
    ("PUT", "/connector-plugins/{pluginName}/config/validate"): _config_body,
    ("PUT", "/admin/loggers/{logger}"): _config_body,
    ("PATCH", "/connectors/{connector}/offsets"): _offsets,
}

_JSON_TYPES = ("application/json", "application/*", "*/*")


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # Jersey picks the JSON reader when none is given
    essence = content_type.split(";")[0].strip().lower()
    return essence in _JSON_TYPES or essence.endswith("+json")


def connect_body_error(method: str, path: str, content_type: str | None, raw: bytes | None) -> str | None:
    """Why Kafka Connect answers 500 to this request body, or None when it would not."""
    reader = _BODY_READERS.get((method.upper(), path))
    if reader is None or not _is_json(content_type):
        return None
    try:
        value = _first_json_value(raw or b"")
    except _Malformed as e:
        return f"malformed JSON ({e})"
    return reader(value)


def _raw_body(request) -> bytes:
    body = getattr(request, "body", None)
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    # A generator or file: not something schemathesis sends for JSON.
    return b""


@schemathesis.check
def connect_server_error(ctx, response, case):
    """5xx only where Kafka Connect answers 5xx too: a 500 to a body it cannot deserialize."""
    status = response.status_code
    if status < 500:
        return None
    request = response.request
    # The method sent, not the operation's: schemathesis also probes unsupported methods.
    method = (request.method or case.operation.method).upper()
    if status == 500:
        content_type = request.headers.get("Content-Type")
        if connect_body_error(method, case.operation.path, content_type, _raw_body(request)) is not None:
            return None
    try:
        message = json.loads(response.content).get("message")
    except Exception:  # noqa: BLE001 - any body that is not Connect's error JSON
        message = response.content[:300].decode("utf-8", "replace")
    raise AssertionError(
        f"{status} from {method} {request.url}: Kafka Connect answers 5xx only to a "
        f"request body it cannot deserialize, and this request has none such. Message: {message!r}"
    )


# --- 2. Generation reaching real resources -------------------------------------------


def _valid_config() -> dict:
    return {
        "connector.class": SOURCE_CLASS,
        "tasks.max": "1",
        "file": FILE,
        "topic": TOPIC,
    }


def _op(context) -> tuple[str, str]:
    op = context.operation
    if op is None:
        return ("", "")
    return (op.method.upper(), op.path)


def _pick(value) -> int:
    """A stable number derived from a generated value (str hashes vary between runs)."""
    return zlib.crc32(repr(value).encode("utf-8", "replace"))


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Every other set of path parameters names real resources instead."""
    if not path_parameters or _pick(path_parameters) % 2:
        return path_parameters
    method, path = _op(context)
    names = list(THROWAWAY)
    if not (method == "DELETE" and path == "/connectors/{connector}"):
        names.append(REAL)
    params = dict(path_parameters)
    if "connector" in params:
        params["connector"] = names[_pick(params["connector"]) % len(names)]
    if "task" in params and isinstance(params["task"], int) and not isinstance(params["task"], bool):
        params["task"] = params["task"] % 2
    if "pluginName" in params:
        params["pluginName"] = PLUGINS[_pick(params["pluginName"]) % len(PLUGINS)]
    if "logger" in params:
        params["logger"] = LOGGERS[_pick(params["logger"]) % len(LOGGERS)]
    return params


def _valid_body(method: str, path: str, path_parameters: dict, seed: int):
    """A body the operation accepts for a known connector, or None."""
    known = path_parameters.get("connector") in THROWAWAY + [REAL]
    if (method, path) == ("POST", "/connectors"):
        body = {"name": THROWAWAY[seed % len(THROWAWAY)], "config": _valid_config()}
        state = [None, "RUNNING", "PAUSED", "STOPPED"][(seed // 7) % 4]
        if state:
            body["initial_state"] = state
        return body
    if (method, path) == ("PUT", "/connectors/{connector}/config") and known:
        return _valid_config()
    if (method, path) == ("PUT", "/connector-plugins/{pluginName}/config/validate"):
        return _valid_config()
    if (method, path) == ("PATCH", "/connectors/{connector}/offsets") and known:
        return {"offsets": [{"partition": {"filename": FILE}, "offset": {"position": 0}}]}
    return None


def _maybe_valid_body(case) -> None:
    """Every other generated body becomes a valid one, for throw-away and real connectors only.

    PUT /connectors/NAME/config with a valid body creates NAME: limiting that to the
    throw-away names keeps the number of connectors small. Done when the request is sent
    (a `map_case` hook would slow schemathesis's generation down twentyfold); the choice
    depends on the generated body only, so a replayed case sends the same request.
    """
    media = (case.media_type or "application/json").lower()
    if "json" not in media:
        return
    seed = _pick(case.body)
    if seed % 2:
        return
    op = case.operation
    body = _valid_body(op.method.upper(), op.path, case.path_parameters or {}, seed >> 1)
    if body is not None:
        case.body = body


# Connectors that valid create requests made: at most MAX_CREATED live at once, so the
# worker's load stays bounded while stateful tests follow links from fresh connectors.
MAX_CREATED = 6
# Per schemathesis process: names another run created may still exist.
_NEW_PREFIX = f"fuzz-new-{os.getpid()}-"
_live: set[str] = set()
_lock = threading.Lock()


def _fresh_name() -> str | None:
    with _lock:
        if len(_live) >= MAX_CREATED:
            return None
        n = 0
        while f"{_NEW_PREFIX}{n}" in _live:
            n += 1
        name = f"{_NEW_PREFIX}{n}"
        _live.add(name)  # reserved now; after_call drops it again unless it was created
        return name


@schemathesis.hook
def before_call(context, case, kwargs):
    op = case.operation
    key = (op.method.upper(), op.path)
    # Keep the script's connector: stateful links can fill in its name for a DELETE.
    if key == ("DELETE", "/connectors/{connector}") and case.path_parameters:
        if case.path_parameters.get("connector") == REAL:
            case.path_parameters["connector"] = THROWAWAY[0]
    _maybe_valid_body(case)
    # A valid create gets a name not in use while few exist, so it answers 201 and
    # stateful tests can follow the links of the new connector.
    body = case.body
    if key == ("POST", "/connectors") and isinstance(body, dict) and body.get("name") in THROWAWAY:
        if body.get("config") == _valid_config():
            name = _fresh_name()
            if name is not None:
                case.body = {**body, "name": name}


@schemathesis.hook
def after_call(context, case, response):
    op = case.operation
    key = (op.method.upper(), op.path)
    if key == ("POST", "/connectors") and isinstance(case.body, dict):
        name = case.body.get("name")
        if isinstance(name, str) and name.startswith(_NEW_PREFIX) and response.status_code != 201:
            with _lock:
                _live.discard(name)
    elif key == ("DELETE", "/connectors/{connector}") and response.status_code == 204:
        with _lock:
            _live.discard(str((case.path_parameters or {}).get("connector")))
