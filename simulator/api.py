"""Bot API request plumbing: reading parameters the way Telegram does, and its errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["ApiError", "Params", "Upload", "bad_request", "error_body", "read_params"]


class ApiError(Exception):
    """An error answer, worded as Telegram words it."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def error_body(code: int, description: str, parameters: dict | None = None) -> dict:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


@dataclass
class Upload:
    """A file part of a multipart request, read into memory."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge the query string with a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                # Read and close now: aiohttp spools parts to temporary files, which would
                # otherwise be closed only by the garbage collector (a ResourceWarning).
                with value.file as handle:
                    params[key] = Upload(value.filename, value.content_type, handle.read())
            else:
                params[key] = value
    return params


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class Params:
    """Typed access to raw parameters: form values arrive as strings, JSON ones typed."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw

    def __contains__(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, Upload):
            raise bad_request(f"can't use file as {name}")
        return value if isinstance(value, str) else json.dumps(value)

    def integer(
        self, name: str, default: int | None = None, *, invalid: str | None = None
    ) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(invalid or f"invalid {name} specified") from None

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool | int):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad_request(f"invalid {name} specified")

    def json(self, name: str, default: Any = None, *, invalid: str | None = None) -> Any:
        """An object-valued parameter; form-encoded requests carry it as a JSON string."""
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            if value == "":
                return default
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(invalid or f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """An InputFile: an upload, an attach://<part> reference, a file_id or a URL."""
        value = self.raw.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.raw.get(value[len("attach://") :])
            if not isinstance(value, Upload):
                raise bad_request(f"file for {name} is not found in the request")
        if value is None or isinstance(value, Upload):
            return value
        return str(value)

    def chat_id(self) -> int:
        if "chat_id" not in self:
            raise bad_request("chat_id is empty")
        return self.integer("chat_id", invalid="chat not found")  # type: ignore[return-value]
