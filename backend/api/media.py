"""`GET /api/media/{message_id}/{index}`: a customer's (or agent's) stored file, for the dashboard.

Only a signed-in member of the message's business who may read conversations gets it; anyone
else gets 404, whether or not the file exists.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from backend.auth import service as auth
from backend.auth.permissions import Permission
from backend.commerce import service as commerce
from backend.conversations import service as conversations
from backend.core.db import session_scope
from backend.tenants import service as tenants

# Shown in the page; anything else is downloaded, so a file can never run as a page of ours.
_INLINE = ("image/", "audio/", "video/", "application/pdf")


def _find(token: str | None, message_id: int, index: int):
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
        if info is None or not info.actor.can(Permission.CONVERSATIONS_READ):
            return None
        try:
            return conversations.attachment_file(
                session, business_id=info.business_id, message_id=message_id, index=index
            )
        except conversations.AttachmentNotFound:
            return None


async def attachment(request: Request) -> Response:
    """The file, with its type; 404 for anything the viewer may not see."""
    try:
        message_id = int(request.path_params["message_id"])
        index = int(request.path_params["index"])
    except ValueError:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    found = await run_in_threadpool(
        _find, request.cookies.get(auth.SESSION_COOKIE), message_id, index
    )
    if found is None:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    path, mime, filename = found
    inline = mime.startswith(_INLINE)
    return FileResponse(
        path,
        media_type=mime if inline else "application/octet-stream",
        filename=filename or path.name,
        content_disposition_type="inline" if inline else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )


def _product_image(token: str | None, product_id: int):
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
        if info is None or not info.actor.can(Permission.SALES_READ):
            return None
        try:
            product = commerce.get_product(session, actor=info.actor, product_id=product_id)
        except commerce.CommerceError:
            return None
        if not product.image_path:
            return None
        path = commerce.image_file(product.image_path)
        return path if path.is_file() else None


async def product_image(request: Request) -> Response:
    """A product's picture for the dashboard; 404 for anything the viewer may not see."""
    try:
        product_id = int(request.path_params["product_id"])
    except ValueError:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    path = await run_in_threadpool(
        _product_image, request.cookies.get(auth.SESSION_COOKIE), product_id
    )
    if path is None:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    mime = _IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(
        path,
        media_type=mime,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"},
    )


# Product images are stored with the suffix of their checked type (backend/commerce).
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def _logo(business_id: int, name: str):
    with session_scope() as session:
        return tenants.find_logo(session, business_id=business_id, name=name)


async def business_logo(request: Request) -> Response:
    """A business's logo (public: it appears beside the name and on the widget); 404 unless
    the name is its current logo."""
    try:
        business_id = int(request.path_params["business_id"])
    except ValueError:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    found = await run_in_threadpool(_logo, business_id, request.path_params["name"])
    if found is None:
        return JSONResponse({"error": "Not found.", "code": "not_found"}, status_code=404)
    path, mime = found
    # Every upload gets a new name (content hash + random suffix): the URL changes with the logo.
    return FileResponse(
        path,
        media_type=mime,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=31536000"},
    )


routes = [
    Route("/api/media/logo/{business_id}/{name}", business_logo, methods=["GET"]),
    Route("/api/media/products/{product_id}", product_image, methods=["GET"]),
    Route("/api/media/{message_id}/{index}", attachment, methods=["GET"]),
]
