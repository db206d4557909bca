"""The alerter's HTTP API: subscriptions CRUD (API key) and the unsubscribe page (signed token).

OpenAPI at ``/docs`` (``/openapi.json``). Every ``/subscriptions`` route needs an ``X-API-Key``
header holding one of ``alerter.api.api_keys``; with no key configured the API is open in
``development`` and closed in ``production``. Webhook secrets are shown once, in the response
that creates them; listings mask them (``whsec_…abcd``), and a masked secret sent back in a
``PUT`` keeps the stored one.

``/unsubscribe?token=…`` is what the link in every email points to: ``GET`` shows a
confirmation page (mail scanners follow links; they must not unsubscribe anyone), ``POST``
unsubscribes — also the RFC 8058 one-click ``List-Unsubscribe-Post`` from mail clients.
"""

from __future__ import annotations

import hmac
import html
import logging
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse

from newswatch.settings import Settings
from services.alerter.errors import AlerterError, SubscriptionError, SubscriptionNotFound
from services.alerter.state import StateDB
from services.alerter.subscriptions import (
    Subscription,
    parse_subscription,
)
from services.alerter.sync import open_store
from services.alerter.tokens import InvalidToken, read_unsubscribe_token

__all__ = ["create_app", "serve_in_thread"]

log = logging.getLogger(__name__)

_MASK = "whsec_…"


def _restore_secrets(new: dict[str, Any], old: Subscription | None) -> dict[str, Any]:
    """Replace masked webhook secrets in ``new`` by the stored secret of the same URL."""
    hooks = new.get("channels", {}).get("webhooks") or []
    for hook in hooks:
        if isinstance(hook, dict) and str(hook.get("secret", "")).startswith(_MASK):
            stored = old.channels.webhook(hook.get("url", "")) if old else None
            if stored is None:
                raise SubscriptionError(
                    f"webhook {hook.get('url')}: a masked secret can only keep an existing one"
                )
            hook["secret"] = stored.secret
    return new


def create_app(settings: Settings, db: StateDB) -> FastAPI:
    """The API over the alerter's state file."""
    store = open_store(settings, db)
    cfg = settings.alerter
    keys = [k.get_secret_value() for k in cfg.api.api_keys]
    secret = cfg.secret_key.get_secret_value()
    allow_private = cfg.webhook.allow_private
    if not keys:
        if settings.environment == "development":
            log.warning("alerter API: no api_keys configured; open (development only)")
        else:
            log.error("alerter API: no api_keys configured; subscriptions routes refused")

    def require_key(
        x_api_key: Annotated[str | None, Header(description="one of alerter.api.api_keys")] = None,
    ) -> None:
        if not keys:
            if settings.environment == "development":
                return
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no API key is configured")
        if x_api_key is None or not any(
            hmac.compare_digest(x_api_key.encode(), k.encode()) for k in keys
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or invalid X-API-Key",
                headers={"WWW-Authenticate": "ApiKey"},
            )

    app = FastAPI(
        title="newswatch alerter",
        version="1",
        description="Manage alert subscriptions; unsubscribe links from alert emails.",
    )
    auth = [Depends(require_key)]

    def validated(data: dict[str, Any]) -> Subscription:
        try:
            sub = parse_subscription(data)
            sub.check_webhook_urls(allow_private=allow_private)
        except SubscriptionError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        return sub

    def found(sub_id: str) -> Subscription:
        try:
            return store.get(sub_id)
        except SubscriptionNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, Any]:
        return {"ok": True, "subscriptions": len(store.all())}

    @app.get("/subscriptions", dependencies=auth, tags=["subscriptions"])
    def list_subscriptions() -> list[dict[str, Any]]:
        """Every subscription, webhook secrets masked."""
        return [s.redacted() for s in store.all()]

    @app.post(
        "/subscriptions",
        dependencies=auth,
        status_code=status.HTTP_201_CREATED,
        tags=["subscriptions"],
    )
    def create_subscription(body: Subscription) -> dict[str, Any]:
        """Create a subscription. The response shows generated webhook secrets, once."""
        sub = validated(body.model_dump(exclude={"created_at", "updated_at"}))
        try:
            created = store.add(sub)
        except SubscriptionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return created.model_dump(mode="json")

    @app.get("/subscriptions/{sub_id}", dependencies=auth, tags=["subscriptions"])
    def get_subscription(sub_id: str) -> dict[str, Any]:
        return found(sub_id).redacted()

    @app.put("/subscriptions/{sub_id}", dependencies=auth, tags=["subscriptions"])
    def replace_subscription(sub_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace a subscription (masked webhook secrets keep the stored ones)."""
        old = store.find(sub_id)
        data = {**body, "id": sub_id}
        data.pop("created_at", None)
        data.pop("updated_at", None)
        try:
            data = _restore_secrets(data, old)
        except SubscriptionError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        return store.put(validated(data)).redacted()

    @app.patch("/subscriptions/{sub_id}", dependencies=auth, tags=["subscriptions"])
    def update_subscription(sub_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change some fields (e.g. ``{"enabled": false}``)."""
        old = found(sub_id)
        data = {**old.model_dump(mode="json", exclude={"created_at", "updated_at"}), **body}
        data["id"] = sub_id
        try:
            data = _restore_secrets(data, old)
        except SubscriptionError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        return store.put(validated(data)).redacted()

    @app.delete(
        "/subscriptions/{sub_id}",
        dependencies=auth,
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["subscriptions"],
    )
    def delete_subscription(sub_id: str) -> Response:
        try:
            store.remove(sub_id)
        except SubscriptionNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    def _page(title: str, body: str, code: int = 200) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>",
            status_code=code,
        )

    def _read(token: str) -> tuple[str, str]:
        try:
            return read_unsubscribe_token(secret, token)
        except InvalidToken as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc

    @app.get("/unsubscribe", response_class=HTMLResponse, tags=["unsubscribe"])
    def unsubscribe_page(token: Annotated[str, Query()]) -> HTMLResponse:
        """The confirmation page the email's link opens."""
        sub_id, email = _read(token)
        sub = store.find(sub_id)
        name = sub.name if sub else sub_id
        form = (
            f"<p>Stop sending alerts of <strong>{html.escape(name)}</strong> to "
            f"<strong>{html.escape(email)}</strong>?</p>"
            f"<form method='post' action='/unsubscribe?token={html.escape(token, quote=True)}'>"
            "<button type='submit'>Unsubscribe</button></form>"
        )
        return _page("Unsubscribe", form)

    @app.post("/unsubscribe", response_class=HTMLResponse, tags=["unsubscribe"])
    def unsubscribe(token: Annotated[str, Query()]) -> HTMLResponse:
        """Remove the address from the subscription (idempotent; also RFC 8058 one-click)."""
        sub_id, email = _read(token)
        changed = store.unsubscribe_email(sub_id, email)
        log.info("unsubscribe %s from %s: %s", email, sub_id, "done" if changed else "no-op")
        return _page(
            "Unsubscribed",
            f"<p>{html.escape(email)} will receive no more alerts from this subscription.</p>",
        )

    return app


def serve_in_thread(settings: Settings, db: StateDB) -> tuple[Any, threading.Thread, str]:
    """Start uvicorn in a daemon thread; ``(server, thread, base URL)`` once it listens.

    With ``alerter.api.port: 0`` the system picks a free port (tests); the URL has the real one.
    """
    import uvicorn

    cfg = settings.alerter.api
    config = uvicorn.Config(
        create_app(settings, db),
        host=cfg.host,
        port=cfg.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="alerter-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AlerterError(f"the alerter API could not listen on {cfg.host}:{cfg.port}")
        time.sleep(0.02)
    port = cfg.port
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            port = sock.getsockname()[1]
            break
    host = cfg.host if cfg.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return server, thread, f"http://{host}:{port}"
