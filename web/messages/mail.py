"""The voicemail notice: an e-mail to the box's owner with the message attached (or named).

Who is told, first found: the voicemail node's own ``email``; ``voicemail_emails`` of the
settings for the box (``{"queue:support": "lead@example.com", "agent:1001": "li@example.com"}``);
``voicemail_email_to``. None of them: the notice is skipped, and the row says so. The WAV is
attached when the worker can read it and it is at most ``voicemail_attach_max_kb``; otherwise the
mail gives its path (the file is on the switch's recordings folder) and why it is not attached.
"""

import dataclasses
import email.message
import email.utils
import os
import smtplib
import socket
import ssl

from web.messages.errors import SendError

SMTP_TIMEOUT = 20.0


class NoticeError(SendError):
    """The notice was not sent."""


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom the worker sends mail (from fs_cc settings)."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    attach_max_bytes: int = 5 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings):
        """The SMTP part of fs_cc settings."""
        return cls(settings.smtp_host, int(settings.smtp_port), settings.smtp_from,
                   settings.smtp_user, settings.smtp_password, bool(settings.smtp_starttls),
                   int(settings.voicemail_attach_max_kb) * 1024)


def recipient(row, settings):
    """Who hears of voice message ``row``: the node's, the box's, the default, or None."""
    return (row.email_to or (settings.voicemail_emails or {}).get(row.box)
            or settings.voicemail_email_to or None)


def _seconds(row):
    return f"{row.duration_ms / 1000:.0f} s" if row.duration_ms is not None else "unknown length"


def build_notice(row, to, smtp):
    """The e-mail for voice message ``row`` to ``to``."""
    message = email.message.EmailMessage()
    caller = row.caller_number or "a hidden number"
    message["Subject"] = f"Voicemail for {row.box} from {caller} ({_seconds(row)})"
    message["From"] = smtp.sender
    message["To"] = to
    message["Date"] = email.utils.format_datetime(row.left_at)
    message["Message-ID"] = email.utils.make_msgid(idstring=f"voicemail-{row.id}")
    lines = [f"A caller left a message in the box {row.box}.", "",
             f"Caller: {caller}", f"When: {row.left_at.isoformat()}", f"Length: {_seconds(row)}",
             f"Call: {row.call_uuid}", f"File: {row.path}"]
    data, why = _attachment(row.path, smtp.attach_max_bytes)
    if data is None:
        lines += ["", f"The recording is not attached ({why}); find it at the path above."]
    message.set_content("\n".join(lines) + "\n")
    if data is not None:
        message.add_attachment(data, maintype="audio", subtype="wav",
                               filename=os.path.basename(row.path))
    return message


def _attachment(path, limit):
    try:
        size = os.path.getsize(path)
        if size > limit:
            return None, f"{size // 1024} KB is more than the {limit // 1024} KB limit"
        with open(path, "rb") as handle:
            return handle.read(), None
    except OSError as exc:
        return None, f"the worker cannot read it: {exc.strerror}"


def send_notice(message, smtp):
    """Send over SMTP; NoticeError (retryable unless the server refused for good)."""
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise NoticeError(f"recipient refused by {smtp.host}: {exc.recipients}", False) from exc
    except smtplib.SMTPResponseException as exc:
        # 4xx: the server asks to come back later; 5xx: it will not take this mail
        reason = f"SMTP {exc.smtp_code} from {smtp.host}: {exc.smtp_error!r}"
        raise NoticeError(reason, exc.smtp_code < 500) from exc
    except (smtplib.SMTPException, socket.timeout, OSError) as exc:
        raise NoticeError(f"no mail server at {smtp.host}:{smtp.port}: {exc}", True) from exc
