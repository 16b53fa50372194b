"""Fetching a source over HTTP with requests — never ``feedparser.parse(url)``.

One call, :func:`fetch`, that never raises for network trouble: it returns a :class:`FetchResult`
whose ``status`` is ``ok``, ``not_modified`` (a 304: no body downloaded, the cached body reused) or
``failed`` with a reason in words, for source health.

Guards, all enforced here:
- connect timeout and a total deadline, checked while the body streams in;
- a size cap on the decoded body (also stops gzip bombs), default 5 MB;
- at most 5 redirects, each target checked again;
- conditional GET with ETag / Last-Modified through a :class:`FetchCache` the caller persists;
- SSRF: only http(s) URLs, and the host must resolve to public addresses only (no loopback,
  private, link-local, multicast, reserved or unspecified) unless it is in ``allow_hosts``;
- DNS rebinding: the connection goes to an address that was checked, never to a second resolution
  (a host may answer public for the check, then 127.0.0.1). Each hop is sent through a
  :class:`digests.sources._transport.PinnedAdapter` to the checked IP, with the name kept for the ``Host`` header, TLS SNI and
  certificate verification. Allow-listed hosts are resolved as usual.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import requests


__all__ = [
    "DEFAULT_MAX_BYTES",
    "USER_AGENT",
    "CacheEntry",
    "FetchCache",
    "FetchError",
    "FetchResult",
    "MemoryCache",
    "UnsafeURLError",
    "check_url",
    "fetch",
]

USER_AGENT = "servicebot/0.1 (+resident service group bot)"
DEFAULT_MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

Resolver = Callable[[str, int], Iterable[str]]
FetchStatus = Literal["ok", "not_modified", "failed"]


class FetchError(Exception):
    """A fetch that cannot succeed; ``str(error)`` says why in words."""


class UnsafeURLError(FetchError):
    """The URL is not http(s) or its host resolves to an address we refuse to reach."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What a conditional GET needs next time, and the body to reuse on a 304."""

    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    final_url: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """A JSON-safe form for a durable store (the body as base64)."""
        return {
            "body": base64.b64encode(self.body).decode("ascii"),
            "etag": self.etag,
            "last_modified": self.last_modified,
            "content_type": self.content_type,
            "final_url": self.final_url,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CacheEntry:
        """The inverse of :meth:`to_json`."""
        return cls(
            body=base64.b64decode(str(data.get("body") or "")),
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            content_type=data.get("content_type"),
            final_url=data.get("final_url"),
        )


class FetchCache(Protocol):
    """Where validators and bodies are kept between fetches (the bot persists it in its store)."""

    def get(self, url: str) -> CacheEntry | None: ...

    def put(self, url: str, entry: CacheEntry) -> None: ...


class MemoryCache:
    """An in-memory, thread-safe :class:`FetchCache` (tests, previews, the bench)."""

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> CacheEntry | None:
        with self._lock:
            return self._entries.get(url)

    def put(self, url: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[url] = entry


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one fetch. ``body_bytes`` counts body bytes read from the network (0 on a 304)."""

    url: str
    status: FetchStatus
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    final_url: str | None = None
    reason: str | None = None
    body_bytes: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> None:
    """Raise :class:`UnsafeURLError` unless ``url`` is http(s) to a public host or an allowed one."""
    checked_addresses(url, allow_hosts, resolver)


def checked_addresses(
    url: str, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None
) -> list[str] | None:
    """The public addresses ``url``'s host resolves to (all checked), or None for an allowed host.

    Raises :class:`UnsafeURLError` for anything else. Connect only to these addresses: resolving the
    name again could answer otherwise (DNS rebinding).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"refused {url!r}: only http and https URLs are fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURLError(f"refused {url!r}: no host")
    if host in {h.lower() for h in allow_hosts}:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = list(dict.fromkeys((resolver or _default_resolver)(host, port)))
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError(f"cannot resolve host {host!r}: {exc}") from exc
    if not addresses:
        raise UnsafeURLError(f"cannot resolve host {host!r}")
    for address in addresses:
        if not _is_public(address):
            raise UnsafeURLError(
                f"refused {url!r}: host {host!r} resolves to non-public address {address} "
                "(add it to network.allow_hosts to allow it)"
            )
    return addresses


def fetch(
    url: str,
    *,
    cache: FetchCache | None = None,
    allow_hosts: Iterable[str] = (),
    timeout: float = 10.0,
    connect_timeout: float = 5.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    user_agent: str = USER_AGENT,
    session: requests.Session | None = None,
    resolver: Resolver | None = None,
    verify: bool | str = True,
) -> FetchResult:
    """GET ``url`` within ``timeout`` seconds in total; never raises for network or HTTP trouble.

    ``session`` prepares the requests (its headers, auth, cookies); sending goes through a
    :class:`PinnedAdapter` per hop. ``verify`` is requests' (a CA bundle path for a private CA).
    """
    import requests  # here, not at import: a bot that has not fetched yet does not load it

    from digests.sources._transport import fetch_hops

    started = time.monotonic()
    allowed = tuple(allow_hosts)
    counter = [0]
    try:
        result = fetch_hops(
            url,
            cache=cache,
            allow_hosts=allowed,
            deadline=started + timeout,
            connect_timeout=connect_timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            user_agent=user_agent,
            session=session,
            resolver=resolver,
            verify=verify,
            counter=counter,
        )
    except FetchError as exc:
        return FetchResult(url, "failed", reason=str(exc), body_bytes=counter[0], elapsed=time.monotonic() - started)
    except requests.Timeout:
        return FetchResult(
            url, "failed", reason=f"timed out after {timeout:g} s", body_bytes=counter[0],
            elapsed=time.monotonic() - started,
        )
    except (requests.RequestException, OSError, ValueError) as exc:
        return FetchResult(
            url, "failed", reason=f"{type(exc).__name__}: {exc}", body_bytes=counter[0],
            elapsed=time.monotonic() - started,
        )
    return FetchResult(
        url,
        result.status,
        result.body,
        result.headers,
        result.final_url,
        result.reason,
        counter[0],
        time.monotonic() - started,
    )


