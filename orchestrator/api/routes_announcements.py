"""Announcements uploaded as WAV or MP3: checked by content, converted with sox to 8 kHz mono WAV,
kept per tenant, referenced by name from plans (``announcements: {welcome: {file: NAME}}``)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from orchestrator.api import audio, context, views
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import BadRequest, InputInvalid, TooLarge, UnsupportedMedia
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.errors import Violation
from orchestrator.services import announcements

CHUNK = 64 * 1024
MAX_NAME_FIELD = 200


async def _save_part(part: BodyPartReader, incoming: Path, limit: int) -> tuple[audio.AudioType, int]:
    """Stream the file part to ``incoming`` (never all in memory); its type from the first bytes."""
    head, size, kind = b"", 0, None
    with incoming.open("wb") as out:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge("file", f"larger than {limit} bytes")
            if kind is None:
                head += chunk
                if len(head) >= audio.SNIFF_BYTES:
                    kind = audio.sniff(head)
                    if kind is None:
                        raise UnsupportedMedia("file", "not a WAV or MP3 file (judged by its content, not its name)")
            out.write(chunk)
    if kind is None:  # shorter than a header
        raise UnsupportedMedia("file", "not a WAV or MP3 file (judged by its content, not its name)")
    return kind, size


async def upload(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    who = principal(request)
    cfg = context.config(request)
    if request.content_type != "multipart/form-data":
        raise UnsupportedMedia("body", "send multipart/form-data with the fields 'name' and 'file'")
    folder = cfg.uploads_dir / tenant
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / f".incoming-{uuid.uuid4().hex}"
    try:
        name, kind, size = await _read_form(request, incoming, cfg.settings.api_max_upload_bytes)
        incoming = incoming.rename(incoming.with_suffix(kind.suffix))  # sox reads by suffix
        async with context.state(request).change_lock:
            with context.session(request) as session:
                row = await announcements.add(
                    session, folder=folder, tenant=tenant, name=name, source=incoming, mime=kind.mime, size=size,
                    max_seconds=cfg.settings.api_max_announcement_seconds, actor=who.actor, token_id=who.token_id)
                return web.json_response(views.upload(row, []), status=201)
    finally:
        incoming.unlink(missing_ok=True)


async def _read_form(request: web.Request, incoming: Path, limit: int) -> tuple[str, audio.AudioType, int]:
    try:
        return await _parse_form(request, incoming, limit)
    except HttpProcessingError as exc:  # aiohttp's parser on a malformed part header
        raise BadRequest("body", f"malformed multipart body: {exc.message}") from exc


async def _parse_form(request: web.Request, incoming: Path, limit: int) -> tuple[str, audio.AudioType, int]:
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise BadRequest("body", f"not a multipart body: {exc}") from exc
    name: str | None = None
    found: tuple[audio.AudioType, int] | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadRequest("body", "nested multipart is not accepted")
        if part.name == "name":
            raw = await part.read(decode=True)
            if len(raw) > MAX_NAME_FIELD:
                raise InputInvalid([Violation("name", "too long")])
            name = raw.decode("utf-8", errors="replace").strip()
        elif part.name == "file":
            found = await _save_part(part, incoming, limit)
        else:
            await part.release()
    violations = []
    if name is None:
        violations.append(Violation("name", "missing"))
    elif not re.match(NAME_PATTERN, name):
        violations.append(Violation("name", f"must match {NAME_PATTERN}"))
    if found is None:
        violations.append(Violation("file", "missing"))
    if violations:
        raise InputInvalid(violations)
    assert name is not None and found is not None
    return name, found[0], found[1]


async def list_uploads(request: web.Request) -> web.Response:
    with context.session(request) as session:
        rows = announcements.listing(session, tenant_of(request))
        return web.json_response({"announcements": [views.upload(u, users) for u, users in rows]})


async def show_upload(request: web.Request) -> web.Response:
    with context.session(request) as session:
        row, users = announcements.one(session, tenant_of(request), request.match_info["name"])
        return web.json_response(views.upload(row, users))


async def delete_upload(request: web.Request) -> web.Response:
    who = principal(request)
    async with context.state(request).change_lock:
        with context.session(request) as session:
            announcements.delete(session, tenant=tenant_of(request), name=request.match_info["name"],
                                 actor=who.actor, token_id=who.token_id)
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/announcements"
    return [
        web.get(base, list_uploads),
        web.post(base, upload),
        web.get(f"{base}/{{name}}", show_upload),
        web.delete(f"{base}/{{name}}", delete_upload),
    ]
