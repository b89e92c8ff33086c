"""Where notifications go: a Slack-compatible webhook and/or email over SMTP.

Settings come from the environment when a notification is sent, never at import
time. The webhook URL (it carries a token) and the SMTP password never reach a
log line, an exception message or the warehouse: a channel is named by its
kind and host only.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from ingestion.config import ConfigError
from orchestration.defs.sensors import WEBHOOK_VAR, AlertDeliveryError, post_alert

SMTP_PREFIX = "PRODUCTOPS_SMTP_"
# Each setting by its full name, so a search for it finds where it is read.
SMTP_VARIABLES = {
    "HOST": "PRODUCTOPS_SMTP_HOST",
    "PORT": "PRODUCTOPS_SMTP_PORT",
    "USER": "PRODUCTOPS_SMTP_USER",
    "PASSWORD": "PRODUCTOPS_SMTP_PASSWORD",
    "FROM": "PRODUCTOPS_SMTP_FROM",
    "TO": "PRODUCTOPS_SMTP_TO",
}
TIMEOUT_VAR = "PRODUCTOPS_NOTIFY_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 10.0


class DeliveryError(RuntimeError):
    """A channel did not take a message; the text never holds a secret."""


@dataclass(frozen=True)
class WebhookChannel:
    url: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    name: str = "webhook"

    @property
    def where(self) -> str:
        return f"webhook at {urlsplit(self.url).hostname or '?'}"

    def send(self, subject: str, text: str) -> None:
        # The failed-run alert's sender: Slack JSON, brief retries on 429/5xx, a bounded timeout.
        try:
            post_alert(self.url, f"*{subject}*\n{text}", timeout=self.timeout)
        except AlertDeliveryError as exc:
            raise DeliveryError(str(exc)) from None


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    name: str = "email"

    @property
    def where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def message(self, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="productops.local")
        message.set_content(text)
        return message

    def send(self, subject: str, text: str) -> None:
        """One message to every recipient. Port 465 speaks TLS at once; any other port
        upgrades with STARTTLS when the server offers it; login only with a user."""
        context = ssl.create_default_context()
        try:
            if self.port == 465:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.port != 465 and client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(self.message(subject, text))
        except (OSError, smtplib.SMTPException) as exc:  # TimeoutError is an OSError
            # smtplib's messages hold the server's reply, never the password.
            raise DeliveryError(f"{self.where}: {type(exc).__name__}: {str(exc)[:200]}") from None


Channel = WebhookChannel | EmailChannel


def _timeout(env: Mapping[str, str]) -> float:
    raw = env.get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{TIMEOUT_VAR}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_VAR} must be more than 0 seconds")
    return value


def channels_from_env(env: Mapping[str, str]) -> list[Channel]:
    """The configured channels; none when nothing is set (the demo)."""
    timeout = _timeout(env)
    channels: list[Channel] = []
    url = env.get(WEBHOOK_VAR, "").strip()
    if url:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"{WEBHOOK_VAR} must be an http(s) URL")
        channels.append(WebhookChannel(url, timeout))
    smtp = {key: env.get(SMTP_VARIABLES[key], "").strip() for key in ("HOST", "PORT", "USER", "FROM", "TO")}
    if smtp["HOST"]:
        missing = [SMTP_PREFIX + key for key in ("FROM", "TO") if not smtp[key]]
        if missing:
            raise ConfigError(f"{SMTP_PREFIX}HOST is set but {' and '.join(missing)} are not")
        try:
            port = int(smtp["PORT"] or 587)
        except ValueError:
            raise ConfigError(f"{SMTP_PREFIX}PORT={smtp['PORT']!r} is not a port number") from None
        channels.append(
            EmailChannel(
                host=smtp["HOST"],
                port=port,
                sender=smtp["FROM"],
                recipients=tuple(a.strip() for a in smtp["TO"].split(",") if a.strip()),
                user=smtp["USER"] or None,
                password=env.get(SMTP_VARIABLES["PASSWORD"]) or None,
                timeout=timeout,
            )
        )
    return channels
