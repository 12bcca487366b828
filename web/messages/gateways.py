"""SMS gateways: how the worker hands a text to a provider.

- ``http``: a JSON POST of ``{"number", "text", "request_id"}`` to ``sms_http_url`` (with
  ``Authorization: Bearer <sms_http_token>`` when one is set), the shape of the HTTP APIs of
  Chinese SMS providers and of most relays in front of them. A 2xx answer is success; 408, 429
  and 5xx, a timeout or a refused connection are worth retrying; any other answer is final.
- ``log``: the embedded default. It writes the text to the worker's log and marks the request
  ``logged``: nothing is delivered to any phone.

SMPP (direct to an operator's SMSC) comes with issue 19.
"""

import dataclasses
import json
import logging
import typing
import urllib.error
import urllib.request

from web.messages.errors import SendError

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = 10.0
RETRYABLE_STATUSES = (408, 429)
GATEWAYS = ("log", "http")


class GatewayError(SendError):
    """The SMS gateway did not take the text."""


@dataclasses.dataclass(frozen=True)
class Sent:
    """A send the gateway accepted: its name, whether it really delivers, what it answered."""

    gateway: str
    delivers: bool
    reply: str = ""


class SmsGateway(typing.Protocol):
    """What the worker needs of a gateway."""

    name: str

    def send(self, number, text, request_id) -> Sent:
        """Hand one text over; GatewayError when it was not taken."""


class LogGateway:
    """Writes each text to the log and delivers nothing (the embedded default)."""

    name = "log"

    def send(self, number, text, request_id):
        """Log it; a Sent that says it was not delivered."""
        logger.warning("sms %s to %s NOT delivered (sms_gateway is 'log'): %s", request_id,
                       number, text)
        return Sent(self.name, delivers=False)


class HttpGateway:
    """POSTs each text as JSON to ``url``; the status code says whether it was taken."""

    name = "http"

    def __init__(self, url, token="", timeout=HTTP_TIMEOUT):
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, number, text, request_id):
        """POST ``{"number", "text", "request_id"}``; GatewayError with the status or fault."""
        body = json.dumps({"number": number, "text": text, "request_id": request_id},
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": request_id}  # a retried send is the same message
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = response.read(2000).decode("utf-8", "replace")
                return Sent(self.name, delivers=True, reply=reply)
        except urllib.error.HTTPError as exc:
            reply = exc.read(500).decode("utf-8", "replace").strip()
            retryable = exc.code in RETRYABLE_STATUSES or exc.code >= 500
            raise GatewayError(f"HTTP {exc.code} from {self.url}" + (f": {reply}" if reply
                                                                       else ""),
                               retryable) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GatewayError(f"no answer from {self.url}: {reason}", True) from exc


def build_gateway(settings):
    """The gateway ``settings.sms_gateway`` names; ValueError naming the setting when wrong."""
    name = settings.sms_gateway
    if name == "log":
        return LogGateway()
    if name == "http":
        if not settings.sms_http_url:
            raise ValueError("sms_gateway is 'http' but sms_http_url is not set")
        return HttpGateway(settings.sms_http_url, settings.sms_http_token)
    raise ValueError(f"sms_gateway: {name!r} is not one of {', '.join(GATEWAYS)} "
                     f"(SMPP comes with issue 19)")
