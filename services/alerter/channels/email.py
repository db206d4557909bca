"""Email delivery: alerts and digests rendered as plain text + HTML, sent over SMTP.

Every message carries the facts an analyst needs without clicking (headline, source, time, the
events with type, place, actors and fatalities, a snippet with the matched words highlighted)
and the link; a personal unsubscribe link (signed token, served by the alerter API) in the body
and in ``List-Unsubscribe`` (one-click, RFC 8058). ``Message-ID`` and ``Newswatch-Delivery-Id``
derive from the delivery id, so a message re-sent after a crash is recognisably the same one.

SMTP: plain, STARTTLS (``smtp.starttls``) or implicit TLS (``smtp.ssl``), with optional
authentication. Failures are classified: a 4xx reply or a connection problem is worth retrying,
a 5xx reply (unknown mailbox, rejected content) is not.
"""

from __future__ import annotations

import datetime as dt
import html
import smtplib
import ssl
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from newswatch.settings import SmtpSettings
from services.alerter.errors import DeliveryError
from services.alerter.payload import AlertArticle, AlertEvent, WebhookAlert

__all__ = ["EmailSender", "render_email"]

_KINDS = {
    1: "state forces",
    2: "rebels",
    3: "political militia",
    4: "identity militia",
    5: "rioters",
    6: "protesters",
    7: "civilians",
    8: "external/other",
}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "time unknown"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _place(event: AlertEvent) -> str:
    loc = event.location
    if loc is None:
        return "place unknown"
    parts = [loc.name]
    if loc.admin1 and loc.admin1 != loc.name:
        parts.append(loc.admin1)
    if loc.country_code:
        parts.append(loc.country_code)
    return ", ".join(parts)


def _event_line(event: AlertEvent) -> str:
    counts = []
    if event.fatalities:
        counts.append(f"{event.fatalities} killed")
    if event.injured:
        counts.append(f"{event.injured} injured")
    line = f"{event.sub_event_type} ({event.event_type}) in {_place(event)}"
    if counts:
        line += " — " + ", ".join(counts)
    if event.actors:
        line += "; actors: " + ", ".join(
            f"{a.name} ({_KINDS.get(a.kind, 'other')})" for a in event.actors[:6]
        )
    if event.date:
        line += f"; on {event.date.isoformat()}"
    if event.background:
        line += " [background]"
    return line


def _marked(
    text: str, spans: Sequence[tuple[int, int]], before: str, after: str, escape: bool
) -> str:
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        chunk, word = text[last:start], text[start:end]
        out.append(html.escape(chunk) if escape else chunk)
        out.append(before + (html.escape(word) if escape else word) + after)
        last = end
    rest = text[last:]
    out.append(html.escape(rest) if escape else rest)
    return "".join(out)


def _article_text(item: AlertArticle) -> list[str]:
    lines = [
        item.title,
        f"{item.source.name}"
        + (f" ({item.source.country})" if item.source.country else "")
        + f" · {_when(item.published_at)}",
        item.url,
        "",
    ]
    if item.events:
        lines.append("Events:")
        lines += [f"  - {_event_line(e)}" for e in item.events]
        lines.append("")
    if item.snippet:
        lines.append(_marked(item.snippet, item.highlights, "*", "*", escape=False))
        lines.append("")
    return lines


def _article_html(item: AlertArticle) -> str:
    source = html.escape(item.source.name) + (
        f" ({html.escape(item.source.country)})" if item.source.country else ""
    )
    parts = [
        f'<h2 style="margin:0 0 4px"><a href="{html.escape(item.url, quote=True)}">'
        f"{html.escape(item.title)}</a></h2>",
        f'<p style="color:#555;margin:0 0 8px">{source} · {_when(item.published_at)}</p>',
    ]
    if item.events:
        parts.append("<ul>")
        parts += [f"<li>{html.escape(_event_line(e))}</li>" for e in item.events]
        parts.append("</ul>")
    if item.snippet:
        snippet = _marked(item.snippet, item.highlights, "<mark>", "</mark>", escape=True)
        parts.append(f'<blockquote style="margin:8px 0;color:#333">{snippet}</blockquote>')
    parts.append(f'<p><a href="{html.escape(item.url, quote=True)}">Read the article</a></p>')
    return "\n".join(parts)


def _subject(payload: WebhookAlert) -> str:
    name = payload.subscription.name
    if payload.kind == "spike" and payload.spike is not None:
        spike = payload.spike
        return (
            f"[newswatch] {name}: spike — {spike.count} reports in "
            f"{spike.window_minutes:g} min (threshold {spike.threshold})"
        )
    if payload.kind == "digest":
        n = len(payload.alerts)
        return f"[newswatch] {name}: {n} new alert{'s' if n != 1 else ''}"
    title = payload.alerts[0].title if payload.alerts else "new alert"
    return f"[newswatch] {name}: {title}"[:250]


def render_email(
    payload: WebhookAlert, *, to: str, sender: str, unsubscribe_url: str
) -> EmailMessage:
    """The email for one delivery to one address."""
    msg = EmailMessage()
    msg["Subject"] = _subject(payload)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(payload.created_at.timestamp(), localtime=False)
    msg["Message-ID"] = f"<{payload.delivery_id}@newswatch>"
    msg["Newswatch-Delivery-Id"] = payload.delivery_id
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"

    text: list[str] = []
    body_html: list[str] = []
    if payload.kind == "spike" and payload.spike is not None:
        spike = payload.spike
        head = (
            f"{spike.count} matching reports between {_when(spike.window_start)} and "
            f"{_when(spike.window_end)} (more than {spike.threshold} in "
            f"{spike.window_minutes:g} minutes)."
        )
        text += [head, ""]
        body_html.append(f"<p><strong>{html.escape(head)}</strong></p>")
    elif payload.kind == "digest":
        head = f"{len(payload.alerts)} new alerts for “{payload.subscription.name}”."
        text += [head, ""]
        body_html.append(f"<p>{html.escape(head)}</p>")
    for i, item in enumerate(payload.alerts):
        if i:
            text.append("-" * 40)
            body_html.append("<hr>")
        text += _article_text(item)
        body_html.append(_article_html(item))
    footer = (
        f"You receive this because of the newswatch subscription “{payload.subscription.name}” "
        f"({payload.subscription.id})."
    )
    text += ["--", footer, f"Unsubscribe: {unsubscribe_url}"]
    body_html.append(
        f'<hr><p style="color:#777;font-size:small">{html.escape(footer)} '
        f'<a href="{html.escape(unsubscribe_url, quote=True)}">Unsubscribe</a></p>'
    )
    msg.set_content("\n".join(text))
    msg.add_alternative(
        '<!doctype html><html><body style="font-family:sans-serif">\n'
        + "\n".join(body_html)
        + "\n</body></html>",
        subtype="html",
    )
    return msg


class EmailSender:
    """Sends one message per SMTP connection (alerts are rare enough; no pool to go stale)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every connection: building one loads the system's CA store,
        which costs tens of milliseconds of CPU, more than the rest of a send."""
        with self._tls_lock:
            if self._tls is None:
                self._tls = ssl.create_default_context()
            return self._tls

    def _connect(self) -> smtplib.SMTP:
        cfg = self.settings
        smtp: smtplib.SMTP
        if cfg.ssl:
            smtp = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_s, context=self._tls_context()
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            if cfg.starttls:
                smtp.starttls(context=self._tls_context())
        if cfg.username:
            password = cfg.password.get_secret_value() if cfg.password else ""
            smtp.login(cfg.username, password)
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send or raise ``DeliveryError`` (retryable for 4xx replies and connection trouble)."""
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(message)
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"recipient refused: {exc.recipients}",
                retryable=all(400 <= c < 500 for c in codes),
                kind="smtp_recipient",
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP authentication failed: {exc.smtp_code}", retryable=True, kind="smtp_auth"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                retryable=400 <= exc.smtp_code < 500,
                kind=f"smtp_{exc.smtp_code}",
            ) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {exc!r}", retryable=True, kind="smtp_connect") from exc
        if refused:
            raise DeliveryError(
                f"recipient refused: {refused}", retryable=False, kind="smtp_recipient"
            )
