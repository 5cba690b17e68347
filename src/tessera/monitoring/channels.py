"""Where notifications go, as mesh.yaml's ``notifications:`` declares it, and how each kind is sent.

- **email** over SMTP (``notifications.smtp``: host, port, ``starttls``, ``usernameEnv``/``passwordEnv`` naming
  the environment variables that hold the credentials, ``from``);
- **slack**: a Slack-compatible incoming webhook, ``{"text": ..., "blocks": [...]}``;
- **teams**: a Microsoft Teams-compatible incoming webhook, a ``MessageCard``;
- **webhook**: generic JSON, signed like the monitoring webhooks (``monitoring/webhooks.py``, ``secretEnv``).

The old ``monitoring.webhooks`` list still works: each entry is a generic webhook channel for the SLA events,
whose payload keeps its old shape (``incident.opened``/``incident.resolved``). A sender raises
``TransientError`` for what may pass (an unreachable server, a 5xx) and ``TesseraError`` for what will not
(a missing variable, no SMTP settings): the first is retried, the second fails the delivery at once."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tessera.errors import TesseraError, TransientError

__all__ = ["Channel", "NotificationSettings", "Smtp", "payload_for", "send_chat", "send_email"]

ChannelKind = Literal["slack", "teams", "webhook"]

#: The SLA events the old ``monitoring.webhooks`` entries receive, under their old names.
LEGACY_EVENTS = {"sla.opened": "incident.opened", "sla.resolved": "incident.resolved"}


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    kind: ChannelKind
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    events: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    legacy: bool = False  # a ``monitoring.webhooks`` entry

    def wants(self, event: str, address: str) -> bool:
        if self.legacy:
            return event in LEGACY_EVENTS
        if self.events and event not in self.events:
            return False
        if self.products and address not in self.products:
            return False
        return not self.domains or address.split(".", 1)[0] in self.domains

    def endpoint(self) -> str:
        if self.url:
            return self.url
        value = os.environ.get(self.url_env or "")
        if not value:
            raise TesseraError(
                f"notification channel {self.name}: the variable {self.url_env} (its URL) is not set"
            )
        return value


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    port: int = 587
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None
    sender: str = "tessera@localhost"

    def credentials(self) -> tuple[str, str] | None:
        if not self.username_env:
            return None
        missing = [v for v in (self.username_env, self.password_env) if v and not os.environ.get(v)]
        if missing:
            raise TesseraError(
                f"notifications.smtp: the variable {', '.join(missing)} is not set (mesh.yaml names it)"
            )
        return os.environ[self.username_env], os.environ.get(self.password_env or "", "")


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    smtp: Smtp | None
    channels: tuple[Channel, ...]
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0

    @classmethod
    def of(cls, notifications: Mapping[str, Any], monitoring: Mapping[str, Any]) -> NotificationSettings:
        """From mesh.yaml's ``notifications:`` and ``monitoring:`` blocks (already schema-checked)."""
        smtp_doc = notifications.get("smtp")
        smtp = (
            Smtp(
                host=str(smtp_doc["host"]),
                port=int(smtp_doc.get("port", 587)),
                starttls=bool(smtp_doc.get("starttls", True)),
                username_env=smtp_doc.get("usernameEnv"),
                password_env=smtp_doc.get("passwordEnv"),
                sender=str(smtp_doc.get("from", "tessera@localhost")),
            )
            if isinstance(smtp_doc, dict) and smtp_doc.get("host")
            else None
        )
        channels = [
            Channel(
                name=str(c["name"]),
                kind=c.get("type", "webhook"),
                url=c.get("url"),
                url_env=c.get("urlEnv"),
                secret_env=c.get("secretEnv"),
                events=tuple(c.get("events") or ()),
                products=tuple(c.get("products") or ()),
                domains=tuple(c.get("domains") or ()),
            )
            for c in notifications.get("channels") or ()
            if isinstance(c, dict) and c.get("name")
        ]
        channels += [
            Channel(name=f"monitoring.webhooks[{i}]", kind="webhook", url=h.get("url"),
                    secret_env=h.get("secretEnv"), legacy=True)
            for i, h in enumerate(monitoring.get("webhooks") or ())
            if isinstance(h, dict) and h.get("url")
        ]  # fmt: skip
        retry_doc = notifications.get("retry")
        retry: Mapping[str, Any] = retry_doc if isinstance(retry_doc, dict) else {}
        return cls(
            smtp=smtp,
            channels=tuple(channels),
            max_attempts=int(retry.get("maxAttempts", 5)),
            backoff_seconds=float(retry.get("backoffSeconds", 30)),
            max_backoff_seconds=float(retry.get("maxBackoffSeconds", 3600)),
        )

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def problems(self) -> list[str]:
        """What would stop a delivery now: variables mesh.yaml names that are not set (for ``tessera doctor``)."""
        named = (
            [("notifications.smtp", v) for v in (self.smtp.username_env, self.smtp.password_env) if v]
            if self.smtp
            else []
        )
        for c in self.channels:
            named += [(f"channel {c.name}", v) for v in (c.url_env, c.secret_env) if v]
        return [f"{where}: the variable {var} is not set" for where, var in named if not os.environ.get(var)]


def _plain(text: str) -> str:
    """``text`` as the chat shows it, never as markup: Slack reads ``<!channel>`` as a mention of everyone and
    ``<https://x|label>`` as a link (its own escapes: ``&amp; &lt; &gt;``); Teams reads HTML tags (and the same
    escapes). Markdown links in a Teams card are left as they are."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload_for(channel: Channel, row: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON a chat channel receives for an outbox row (``subject``, ``payload``)."""
    subject, body = str(row["subject"]), str(row["payload"].get("text", ""))
    stored = row["payload"]
    if channel.kind == "slack":  # what a principal wrote (a purpose, a reason) must not become markup
        return {
            "text": _plain(subject),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": _plain(body)[:2900]}},
            ],
        }
    if channel.kind == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": subject,
            "title": subject,
            "text": _plain(body).replace("\n", "  \n"),
        }
    if channel.legacy:
        facts = stored.get("facts") or {}
        return {
            "event": LEGACY_EVENTS.get(stored["event"], stored["event"]),
            "product": stored["address"],
            "kind": facts.get("kind"),
            **({"detail": facts["detail"]} if "detail" in facts else {}),
            "mesh": stored.get("mesh"),
            "at": stored.get("at"),
        }
    return {
        "event": stored["event"],
        "product": stored["address"],
        "mesh": stored.get("mesh"),
        "at": stored.get("at"),
        "subject": subject,
        "facts": stored.get("facts") or {},
    }


def send_chat(channel: Channel, row: Mapping[str, Any], *, timeout: float) -> None:
    from tessera.monitoring.webhooks import send_webhook

    secret = channel.secret_env if channel.kind == "webhook" else None
    send_webhook(channel.endpoint(), payload_for(channel, row), timeout=timeout, secret_env=secret)


def send_email(smtp: Smtp | None, to: Sequence[str], subject: str, body: str, *, timeout: float) -> None:
    """One plain-text email over SMTP (STARTTLS when set); connection problems and 4xx answers are transient."""
    import smtplib
    import ssl
    from email.message import EmailMessage

    if smtp is None:
        raise TesseraError("mesh.yaml has no notifications.smtp (host, port, from): email cannot be sent")
    message = EmailMessage()
    try:
        message["From"], message["To"], message["Subject"] = (
            smtp.sender,
            ", ".join(to),
            " ".join(subject.split()),
        )
        message.set_content(body)
    except ValueError as exc:  # a line break in an address: never sent, never retried
        raise TesseraError(f"email to {', '.join(map(repr, to))} cannot be sent: {exc}") from None
    credentials = smtp.credentials()
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if credentials is not None:
                server.login(*credentials)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused: for good when each refusal is 5xx
        refusals = ", ".join(f"{to} ({code} {reply!r})" for to, (code, reply) in exc.recipients.items())
        error = f"SMTP {smtp.host}:{smtp.port} refused {refusals}"
        if all(400 <= code < 500 for code, _ in exc.recipients.values()):
            raise TransientError(error) from exc
        raise TesseraError(error) from exc
    except smtplib.SMTPNotSupportedError as exc:  # e.g. an address that needs SMTPUTF8: it will not pass
        raise TesseraError(f"SMTP {smtp.host}:{smtp.port} cannot send it: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP {smtp.host}:{smtp.port} answered {exc.smtp_code} {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            raise TransientError(error) from exc
        raise TesseraError(error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP {smtp.host}:{smtp.port} could not be reached: {exc}") from exc
