"""Named data sources for ``lookup`` nodes: an HTTP endpoint, an SQL query or the CRM's customer by
phone number, defined once per site.

The sources live in ``data_sources/sources.yaml`` in the flows' folder (beside the flow files, in a
folder of its own so that nothing takes it for a flow)::

    sources:
      points_by_card:               # the name a lookup node gives as 'source'
        kind: http
        url: "http://crm.example:8080/members/{key}/points"   # {key}: the lookup's key, URL-quoted
        method: GET                 # or POST (then 'body', with {key} as a JSON string)
        headers: {Accept: application/json}
        timeout: 2                  # seconds for the connection and for the answer
      member_by_card:
        kind: sql
        # database: postgresql://...  (default: the app's database, settings.database_url)
        query: "SELECT points, tier FROM members WHERE card_number = :key"
      caller:
        kind: crm                   # the CRM's customer with this phone (key: {caller_number})
        region: CN                  # how a number without its country code is read

An HTTP source answers with JSON; a 404, an empty body, ``null``, ``{}`` or ``[]`` is "not
found", any other non-2xx status, a timeout or a body that is not JSON is a failure. An SQL
source's first row is the record (no row: not found). The lookup node picks fields out of the
record (fs_cc.ivr.nodes_lookup). A CRM source reads the app's database (web.crm's tables): the key,
as dialled or in E.164, is the customer's phone; a withheld number finds no one.
"""

import dataclasses
import json
import logging
import os
import typing
import urllib.parse

import sqlalchemy as sa
import urllib3

from fs_cc.errors import ConfigError, FsCcError
from fs_cc.ivr.services import flow_service
from fs_cc.ivr.yamlmarks import load_yaml

logger = logging.getLogger(__name__)

SOURCES_DIR = "data_sources"
SOURCES_FILE = "sources.yaml"
KINDS = ("http", "sql", "crm")
METHODS = ("GET", "POST")
DEFAULT_TIMEOUT = 3.0  # seconds
MAX_BODY = 1024 * 1024  # an answer past a megabyte is not a lookup's record


class LookupFailed(FsCcError):
    """The source did not answer usefully (status, timeout, not JSON, database error)."""

    def __init__(self, source, reason):
        super().__init__(f"data source '{source}': {reason}")
        self.source = source
        self.reason = reason


def sources_path(flows_dir):
    """Where the data sources of the flows in ``flows_dir`` are defined."""
    return os.path.join(str(flows_dir), SOURCES_DIR, SOURCES_FILE)


@dataclasses.dataclass(frozen=True)
class HttpSource:
    """A JSON endpoint; ``url`` and ``body`` hold ``{key}``."""

    name: str
    url: str
    method: str = "GET"
    headers: typing.Mapping[str, str] = dataclasses.field(default_factory=dict)
    body: typing.Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    line: int = 0

    kind: typing.ClassVar[str] = "http"

    def fetch(self, key, pool):
        """The JSON record for ``key``, None when not found; LookupFailed otherwise."""
        url = self.url.replace("{key}", urllib.parse.quote(key, safe=""))
        body = None if self.body is None else self.body.replace("{key}", json.dumps(key)[1:-1])
        try:
            response = pool.request(self.method, url, body=body, headers=dict(self.headers),
                                    timeout=urllib3.Timeout(connect=self.timeout,
                                                            read=self.timeout),
                                    retries=False, preload_content=False)
            data = response.read(MAX_BODY + 1)
            if len(data) > MAX_BODY:
                response.close()  # the rest is never read: this connection cannot be reused
                raise LookupFailed(self.name, f"the answer is over {MAX_BODY} bytes")
            response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise LookupFailed(self.name, f"{type(exc).__name__}: {exc}") from exc
        if response.status == 404:
            return None
        if not 200 <= response.status < 300:
            raise LookupFailed(self.name, f"HTTP status {response.status}")
        if not data.strip():
            return None
        try:
            record = json.loads(data)
        except ValueError as exc:
            raise LookupFailed(self.name, f"the answer is not JSON ({exc})") from None
        return record if record not in (None, {}, []) else None


@dataclasses.dataclass(frozen=True)
class SqlSource:
    """A SELECT with the parameter ``:key`` on a database (None: the app's)."""

    name: str
    query: str
    database: typing.Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    line: int = 0

    kind: typing.ClassVar[str] = "sql"

    def fetch(self, key, engine):
        """The first row for ``key`` as a dict, None when there is none; LookupFailed otherwise."""
        try:
            with engine.connect() as connection:
                row = connection.execute(sa.text(self.query), {"key": key}).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            raise LookupFailed(self.name, f"database error: {exc.__class__.__name__}: "
                                          f"{str(exc).splitlines()[0]}") from exc
        return dict(row) if row is not None else None


# the CRM's customer (web.crm) by one of their phone numbers, stored in E.164: the newest one
# edited when two share a number; deleted and merged-away records are no one's
CRM_QUERY = (
    "SELECT c.id AS customer_id, c.name AS name, c.level AS level,"
    " c.card_number AS card_number, c.gender AS gender, c.company AS company, c.city AS city"
    " FROM crm_customers c JOIN crm_phones p ON p.customer_id = c.id"
    " WHERE p.e164 = :key AND c.deleted_at IS NULL AND c.merged_into_id IS NULL"
    " ORDER BY c.updated_at DESC, c.id DESC LIMIT 1")


def e164_of(number, region):
    """``number`` as E.164 (``+8613800138000``), read as dialled in ``region``; None if it is no
    phone number (withheld, "anonymous", too short)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(str(number or ""), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclasses.dataclass(frozen=True)
class CrmSource(SqlSource):
    """The CRM's customer whose phone is the key (the caller's number, in any common form).

    Its fields: customer_id, name, level, card_number, gender, company, city.
    """

    query: str = CRM_QUERY
    region: str = "CN"  # how a number without a country code is read

    kind: typing.ClassVar[str] = "crm"

    def fetch(self, key, engine):
        """The customer for phone ``key``, None when there is none (or it is no number)."""
        e164 = e164_of(key, self.region)
        return None if e164 is None else super().fetch(e164, engine)


def parse_sources(text, path):
    """The sources defined by YAML ``text`` of file ``path``, by name; ConfigError at file:line."""
    data = load_yaml(text, path)
    if not isinstance(data, dict) or set(data) != {"sources"} or not isinstance(
            data["sources"], dict):
        raise ConfigError("a data sources file holds one mapping, 'sources:', of source names "
                          "to sources", path, getattr(data, "line", 1))
    sources = {}
    for name, raw in data["sources"].items():
        sources[str(name)] = _parse_source(str(name), raw, data["sources"].key_line_of(name),
                                           path)
    return sources


def _parse_source(name, raw, line, path):
    def fail(message, key=None):
        raise ConfigError(f"data source '{name}': {message}", path,
                          raw.line_of(key) if key is not None and isinstance(raw, dict) else line)

    if not isinstance(raw, dict):
        fail("must be a mapping with a 'kind'")
    kind = raw.get("kind")
    if kind not in KINDS:
        fail(f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}", "kind")
    fields = {"http": ("kind", "url", "method", "headers", "body", "timeout"),
              "sql": ("kind", "query", "database", "timeout"),
              "crm": ("kind", "region", "database", "timeout")}[kind]
    for key in raw:
        if key not in fields:
            fail(f"unknown field '{key}' (fields of a {kind} source: {', '.join(fields[1:])})",
                 key)
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        fail(f"'timeout' must be a number of seconds above 0, not {timeout!r}", "timeout")
    if kind == "http":
        return _parse_http(name, raw, line, float(timeout), fail)
    if kind == "crm":
        return _parse_crm(name, raw, line, float(timeout), fail)
    query = raw.get("query")
    first = query.split(None, 1)[0].upper() if isinstance(query, str) and query.strip() else ""
    if first not in ("SELECT", "WITH"):
        fail("'query' must be a SELECT (with :key where the key goes)", "query")
    if ":key" not in query:
        fail("'query' must use the parameter :key (e.g. WHERE card_number = :key)", "query")
    return SqlSource(name, query, _database(raw, fail), float(timeout), line)


def _database(raw, fail):
    """A SQL or CRM source's optional ``database`` URL (None: the app's)."""
    database = raw.get("database")
    if database is not None and not isinstance(database, str):
        fail("'database' must be a database URL", "database")
    return database


def _parse_crm(name, raw, line, timeout, fail):
    import phonenumbers

    region = raw.get("region", "CN")
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        fail(f"'region' must be a country code such as CN or US, not {region!r}", "region")
    return CrmSource(name, CRM_QUERY, _database(raw, fail), timeout, line,
                     region=region.upper())


def _parse_http(name, raw, line, timeout, fail):
    url = raw.get("url")
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        fail(f"'url' must be an http:// or https:// address, not {url!r}", "url")
    method = str(raw.get("method", "GET")).upper()
    if method not in METHODS:
        fail(f"'method' must be GET or POST, not {raw.get('method')!r}", "method")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, (str, int)) for v in
                                                headers.values()):
        fail("'headers' must map header names to texts", "headers")
    body = raw.get("body")
    if body is not None and (method != "POST" or not isinstance(body, str)):
        fail("'body' is a text, for a POST only", "body")
    return HttpSource(name, url, method, {str(k): str(v) for k, v in headers.items()}, body,
                      timeout, line)


def load_sources(path):
    """The sources of the file at ``path`` ({} when there is no such file); ConfigError if bad."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read data sources file: {exc.strerror}", str(path)) from exc
    return parse_sources(text, str(path))


def source_names_beside(flow_path):
    """(names, None) of the sources beside the flow file ``flow_path`` (names None: no such file),
    or (None, the ConfigError) when that file is broken."""
    path = sources_path(os.path.dirname(os.path.abspath(flow_path)))
    if not os.path.exists(path):
        return None, None
    try:
        return set(load_sources(path)), None
    except ConfigError as exc:
        return None, exc


class DataSources:
    """The sources by name, and what fetching needs: one HTTP pool, one SQL engine per database."""

    def __init__(self, sources, default_database=None, path=None):
        self.sources = dict(sources)
        self.default_database = default_database
        self.path = path
        self._http = urllib3.PoolManager(num_pools=8, maxsize=16, block=False)
        self._engines = {}

    @classmethod
    def from_settings(cls, settings):
        """The sources beside the default flow (settings.ivr_flow), on the app's database."""
        path = sources_path(os.path.dirname(str(settings.ivr_flow)))
        return cls(load_sources(path), settings.database_url, path)

    def get(self, name):
        """The source called ``name``, or None."""
        return self.sources.get(name)

    def fetch(self, name, key):
        """The record of source ``name`` for ``key`` (None: not found); LookupFailed otherwise."""
        source = self.sources.get(name)
        if source is None:
            raise LookupFailed(name, f"no such data source (defined: "
                                     f"{', '.join(sorted(self.sources)) or 'none'}, in "
                                     f"{self.path or 'no file'})")
        if isinstance(source, HttpSource):
            return source.fetch(key, self._http)
        return source.fetch(key, self._engine(source.database or self.default_database))

    def _engine(self, url):
        if url is None:
            raise LookupFailed("sql", "no database: the source names none and the engine has none")
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = sa.create_engine(url, pool_pre_ping=True)
        return engine

    def close(self):
        """Release the HTTP connections and the database engines."""
        self._http.clear()
        for engine in self._engines.values():
            engine.dispose()


@flow_service("data_sources")
def build_data_sources(engine):
    """The engine's data sources (a broken file stops the engine with file:line)."""
    return DataSources.from_settings(engine.settings)
