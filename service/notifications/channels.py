"""The channels: email over SMTP (the standard library's ``smtplib``, in a thread) and SMS through an HTTP
provider (a JSON POST). Both raise ``SendError`` with a reason that names no address and quotes no text."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import httpx

from tenants.settings import Settings


class SendError(Exception):
    """A failed attempt; ``permanent`` (the server refused the message) is not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent


class Disabled(Exception):
    """The channel is not configured: the delivery is recorded as skipped."""


def email_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


def sms_enabled(settings: Settings) -> bool:
    return bool(settings.sms_url)


def _send_email(settings: Settings, message: EmailMessage) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise SendError(f"recipient refused: SMTP {codes}", permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"{type(exc).__name__}: SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPNotSupportedError:
        raise SendError("the server does not support STARTTLS") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or 'SMTP error'}") from None


async def send_email(settings: Settings, to: str, subject: str, text: str) -> None:
    if not email_enabled(settings):
        raise Disabled("email")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8")
    await asyncio.to_thread(_send_email, settings, message)


async def send_sms(settings: Settings, to: str, text: str) -> None:
    if not sms_enabled(settings):
        raise Disabled("sms")
    headers = {"Authorization": f"Bearer {settings.sms_token}"} if settings.sms_token else {}
    try:
        async with httpx.AsyncClient(timeout=settings.smtp_timeout, follow_redirects=False) as client:
            response = await client.post(settings.sms_url, json={"to": to, "text": text}, headers=headers)
    except httpx.HTTPError as exc:
        raise SendError(f"{type(exc).__name__}") from None
    if response.status_code >= 300:
        # 4xx other than 408/429 is the provider refusing this message: not retried.
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        raise SendError(f"HTTP {response.status_code}", permanent=permanent)
