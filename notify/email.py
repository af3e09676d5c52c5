"""E-mail a notice over SMTP (smtplib): plain SMTP, or SMTP upgraded with STARTTLS (notify.smtp_starttls), logging
in when notify.smtp_user is set. One message per notice, plain text, with a link back to the sidecar.

What an SMTP server says maps onto the worker's two errors: a refused or timed-out connection, a dropped
connection and any 4xx reply (greylisting, mailbox busy, rate limits) are TransientError; a 5xx reply to the
message (550 no such user, 554 rejected) is PermanentError, since sending it again cannot help. Refused credentials
and a server that cannot do STARTTLS are configuration an admin can fix, so they are retried rarely
(CREDENTIALS_RETRY_S) rather than losing the notice.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from integrations.base import CREDENTIALS_RETRY_S, IntegrationError, PermanentError, TransientError

TIMEOUT_S = 30.0


def message(from_address: str, to: str, subject: str, body: str, link: str = "", display_name: str = "",
            notice_id: int | None = None) -> EmailMessage:
    """The notice as an e-mail: From the sidecar, To the person, Subject the notice title, and a plain-text body
    ending with a line that links to the sidecar page where the notice (and its article) can be read."""
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = formataddr((display_name, to)) if display_name else to
    msg["Subject"] = " ".join(subject.split()) or "Knowledge Sidecar notice"
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = from_address.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid("ks-notice", domain=domain)
    if notice_id is not None:
        msg["X-KS-Notice-Id"] = str(notice_id)
    text = (body or "").rstrip()
    if link:
        text += ("\n\n" if text else "") + f"Open it in the Knowledge Sidecar: {link}"
    msg.set_content(text + "\n")
    return msg


def _reply_error(what: str, code: int, reply) -> IntegrationError:
    """4xx: try later; 5xx: the server refused for good."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    text = f"{what}: {code} {reply}".strip()
    if 400 <= code < 500:
        error = TransientError(text, status=code)
    else:
        error = PermanentError(text)
        error.status = code
    return error


def send(nc: dict, msg: EmailMessage, timeout: float = TIMEOUT_S) -> None:
    """Hand the message to notify.smtp_host:smtp_port. Returns when the server accepted it for every recipient;
    raises TransientError / PermanentError otherwise. Never retries: the worker does."""
    host, port = nc["smtp_host"], int(nc["smtp_port"])
    where = f"SMTP {host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if nc.get("smtp_starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if nc.get("smtp_user"):
                smtp.login(nc["smtp_user"], nc.get("smtp_password") or "")
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise TransientError(f"{where} refused the login {exc.smtp_code} {exc.smtp_error!r} "
                             "(check notify.smtp_user and smtp_password)", CREDENTIALS_RETRY_S) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise TransientError(f"{where}: {exc} (check notify.smtp_starttls and smtp_user)",
                             CREDENTIALS_RETRY_S) from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        raise _reply_error(f"{where} refused {', '.join(exc.recipients)}", code, reply) from None
    except smtplib.SMTPResponseException as exc:   # sender refused, data refused, HELO/connect refused
        raise _reply_error(where, exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise TransientError(f"{where} closed the connection: {exc}") from None
    except ssl.SSLError as exc:
        raise TransientError(f"{where} TLS failed: {exc} (check notify.smtp_starttls)", CREDENTIALS_RETRY_S) from None
    except (OSError, smtplib.SMTPException) as exc:   # refused, unreachable, timed out, name not found
        raise TransientError(f"{where} unreachable: {exc.__class__.__name__}: {exc}") from None
