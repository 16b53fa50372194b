"""The requests half of :func:`digests.sources.http.fetch`, imported on the first fetch (requests and
urllib3 cost ~4 MB a bot that has not fetched anything yet does not need).

Each hop goes to an address :func:`~digests.sources.http.checked_addresses` checked, through a
:class:`PinnedAdapter`: the URL carries the IP, the ``Host`` header the name, TLS speaks SNI for and
verifies the name. The next checked address is tried only if connecting fails.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from digests.sources.http import (
    _CHUNK,
    _REDIRECTS,
    CacheEntry,
    FetchCache,
    FetchError,
    FetchResult,
    Resolver,
    checked_addresses,
)

__all__ = ["PinnedAdapter", "fetch_hops"]


class PinnedAdapter(HTTPAdapter):
    """Sends to an IP already checked while TLS still speaks to (SNI) and verifies the host's name.

    The request URL carries the IP (so urllib3 connects there and nowhere else) and the ``Host``
    header carries the name; ``server_hostname`` / ``assert_hostname`` make the TLS handshake and the
    certificate check use the name too. No retries: the caller decides.
    """

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        # urllib3 drops both keywords for plain-http pools
        pool_kwargs.update(server_hostname=self.server_name, assert_hostname=self.server_name)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _pinned(url: str, address: str) -> tuple[str, str, str]:
    """(URL with ``address`` in place of the host, the Host header, the name for TLS)."""
    parts = urlsplit(url)
    name = (parts.hostname or "").encode("idna").decode("ascii")
    ip = ipaddress.ip_address(address)
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    if parts.port is not None:
        netloc += f":{parts.port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    host_header = name + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, userinfo + at + netloc, parts.path, parts.query, "")), host_header, name


def fetch_hops(
    url: str,
    *,
    cache: FetchCache | None,
    allow_hosts: tuple[str, ...],
    deadline: float,
    connect_timeout: float,
    max_bytes: int,
    max_redirects: int,
    user_agent: str,
    session: requests.Session | None,
    resolver: Resolver | None,
    verify: bool | str,
    counter: list[int],
) -> FetchResult:
    cached = cache.get(url) if cache is not None else None
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    if cached is not None:
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
    own_session = session is None
    http = session or requests.Session()
    if own_session:
        http.trust_env = False  # no proxies or .netrc from the environment: we check the real target
    adapters: list[HTTPAdapter] = []
    try:
        current = url
        for _hop in range(max_redirects + 1):
            addresses = checked_addresses(current, allow_hosts, resolver)
            response = _get(http, current, addresses, headers, deadline, connect_timeout, verify, adapters)
            with response:
                if response.status_code in _REDIRECTS and "Location" in response.headers:
                    current = urljoin(current, response.headers["Location"])
                    continue
                if response.status_code == 304:
                    if cached is None:
                        raise FetchError("HTTP 304 Not Modified but nothing cached")
                    return FetchResult(
                        url,
                        "not_modified",
                        cached.body,
                        _headers_of(cached),
                        cached.final_url or current,
                    )
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} {response.reason or ''}".strip())
                if response.status_code != 200:
                    raise FetchError(f"unexpected HTTP {response.status_code}")
                body = _read_body(response, deadline, max_bytes, counter)
                reply_headers = dict(response.headers.items())
                entry = CacheEntry(
                    body=body,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type"),
                    final_url=current,
                )
                if cache is not None and (entry.etag or entry.last_modified):
                    cache.put(url, entry)
                return FetchResult(url, "ok", body, MappingProxyType(reply_headers), current)
        raise FetchError(f"more than {max_redirects} redirects")
    finally:
        for adapter in adapters:
            adapter.close()
        if own_session:
            http.close()


def _get(
    http: requests.Session,
    url: str,
    addresses: list[str] | None,
    headers: Mapping[str, str],
    deadline: float,
    connect_timeout: float,
    verify: bool | str,
    adapters: list[HTTPAdapter],
) -> requests.Response:
    """One hop: to each checked address in turn (the next one only if connecting fails), or, for an
    allowed host (``addresses`` None), to the name as resolved at connect time."""
    targets: list[str | None] = list(addresses) if addresses is not None else [None]
    for i, address in enumerate(targets):
        remaining = _remaining(deadline)
        if address is None:
            target, hop_headers, adapter = url, dict(headers), HTTPAdapter(max_retries=0)
        else:
            target, host_header, name = _pinned(url, address)
            hop_headers, adapter = {**headers, "Host": host_header}, PinnedAdapter(name)
        prepared = http.prepare_request(requests.Request("GET", target, headers=hop_headers))
        try:
            response = adapter.send(
                prepared, stream=True, timeout=(min(connect_timeout, remaining), remaining), verify=verify
            )
        except requests.ConnectionError:
            adapter.close()
            if i == len(targets) - 1:
                raise
            continue
        adapters.append(adapter)  # closed (with its connection pool) by the caller, after the body
        return response
    raise AssertionError("unreachable: at least one target")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise requests.Timeout("deadline passed")
    return left


def _headers_of(entry: CacheEntry) -> Mapping[str, str]:
    found = {"Content-Type": entry.content_type} if entry.content_type else {}
    return MappingProxyType(found)


def _read_body(response: requests.Response, deadline: float, max_bytes: int, counter: list[int]) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"body of {int(declared)} bytes is larger than the cap of {max_bytes} bytes")
    raw: Any = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        _remaining(deadline)
        # read1 returns what has arrived (each socket read bounded by the read timeout), so the
        # total deadline is checked between reads even when a server trickles bytes.
        read = raw.read1 if hasattr(raw, "read1") else raw.read
        chunk: bytes = read(_CHUNK, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        counter[0] = size
        if size > max_bytes:
            raise FetchError(f"body larger than the cap of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
