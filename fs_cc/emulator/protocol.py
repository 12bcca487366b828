"""ESL wire format: URL encoding, message framing and the fixed texts FreeSWITCH sends."""

DISCONNECT_TEXT = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
AUTH_REQUEST = b"Content-Type: auth/request\n\n"

# switch_url_encode() escapes these besides control and non-ASCII bytes.
_UNSAFE = set(b'\r\n "#%&+:;<=>?@[\\]^`{|}')
_ENCODE_TABLE = {}
for _b in range(256):
    if _b <= 0x20 or _b >= 0x7F or _b in _UNSAFE:
        _ENCODE_TABLE[_b] = "%%%02X" % _b
    else:
        _ENCODE_TABLE[_b] = chr(_b)


def url_encode(value):
    """Encode a header value the way FreeSWITCH's switch_url_encode does."""
    if value.isalnum():
        return value
    return "".join(_ENCODE_TABLE[b] for b in value.encode("utf-8"))


def url_decode(value):
    """Decode a %XX-encoded header value."""
    from urllib.parse import unquote
    return unquote(value)


def command_reply(text, extra=()):
    """A `command/reply` message with Reply-Text and optional extra headers."""
    lines = ["Content-Type: command/reply", "Reply-Text: %s" % text]
    lines.extend("%s: %s" % (k, v) for k, v in extra)
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def api_response(body):
    """An `api/response` message framed with Content-Length."""
    data = body.encode("utf-8")
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def disconnect_notice(session_uuid=None):
    """The final `text/disconnect-notice` (inbound or outbound)."""
    data = DISCONNECT_TEXT.encode("utf-8")
    head = "Content-Type: text/disconnect-notice\n"
    if session_uuid:
        head += "Controlled-Session-UUID: %s\nContent-Disposition: disconnect\n" % session_uuid
    return head.encode("utf-8") + b"Content-Length: %d\n\n" % len(data) + data


def linger_notice(session_uuid, channel_name, linger_time):
    """The `Content-Disposition: linger` notice sent when a lingering call hangs up."""
    return ("Content-Type: text/disconnect-notice\nControlled-Session-UUID: %s\n"
            "Content-Disposition: linger\nChannel-Name: %s\nLinger-Time: %s\n"
            "Content-Length: 0\n\n" % (session_uuid, channel_name, linger_time)).encode("utf-8")


class ConnectionClosed(Exception):
    """The peer closed the socket."""


class CommandReader:
    """Reads ESL commands: header lines up to a blank line, then Content-Length bytes."""

    def __init__(self, sock):
        self._sock = sock
        self._buf = b""

    def _fill(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionClosed()
        self._buf += chunk

    def read(self):
        """Return (first_line, headers dict, body) of the next command."""
        while True:
            # A command ends at a blank line; tolerate \r\n.
            idx = self._buf.find(b"\n\n")
            idx_r = self._buf.find(b"\r\n\r\n")
            if idx_r != -1 and (idx == -1 or idx_r < idx):
                head, self._buf = self._buf[:idx_r], self._buf[idx_r + 4:]
                break
            if idx != -1:
                head, self._buf = self._buf[:idx], self._buf[idx + 2:]
                break
            self._fill()
        lines = head.decode("utf-8", "replace").replace("\r", "").split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        first = lines[0].strip() if lines else ""
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        body = b""
        length = int(headers.get("content-length", "0") or 0)
        if length:
            while len(self._buf) < length:
                self._fill()
            body, self._buf = self._buf[:length], self._buf[length:]
        return first, headers, body.decode("utf-8", "replace")
