"""Where a dataset lives: local paths and object-store URLs, and the client that reaches them.

A dataset root is a local path, a ``file://`` URL (the same thing), or an object
store URL: ``s3://`` (``s3a://``), ``gs://`` (``gcs://``), ``az://`` /
``abfs://`` / ``abfss://`` (``azure://``, ``adl://``). Anything else is refused
with :class:`~vidiframe.InvalidRequestError` before anything is created.

Object stores are reached through **obstore**, the Python binding of the Rust
``object_store`` crate. It is the library Polars (``scan_parquet``,
``write_parquet``) and deltalake themselves use underneath, so one dataset URL
and one ``storage_options`` dict mean the same bucket, endpoint and credentials
for our listing, reading, deleting and conditional puts as for the engines'
reads and writes; it reads credentials from the environment the same way
(``AWS_*``, ``GOOGLE_*``, ``AZURE_*``, instance metadata), and it offers the
conditional PUT (create-only, or replace-this-etag) the writer lease needs.

``storage_options`` takes the keys Polars and deltalake take
(``aws_endpoint_url``, ``aws_access_key_id``, ``aws_secret_access_key``,
``aws_region``, ``aws_allow_http``, ...). Their values are secrets as far as this
module is concerned: no error message, log line or repr built here contains
one, and the text of a storage library's error is scrubbed of them before it is
quoted.

Local roots keep using the file system directly (``rename(2)`` from a staging
directory, ``fsync``, ``flock``): object_store's local store has no directory
fsync nor lock, and the local guarantees rest on both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from vidiframe._errors import InvalidRequestError, StorageFaultError
from vidiframe._optional import require

__all__ = [
    "Location",
    "ObjectInfo",
    "ObjectStorage",
    "check_storage_options",
    "delta_options",
    "parse_root",
    "polars_options",
    "write_object",
]

Cloud = Literal["s3", "gs", "azure"]

_SCHEMES: Mapping[str, Cloud] = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "gcs": "gs",
    "az": "azure",
    "azure": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
}

# object_store's HTTP client settings: Polars and deltalake accept them with or
# without the cloud's prefix (aws_allow_http, allow_http); obstore wants them apart.
_CLIENT_KEYS = frozenset(
    {
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "default_content_type",
        "http1_only",
        "http2_only",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "proxy_url",
        "proxy_ca_certificate",
        "proxy_excludes",
        "timeout",
        "user_agent",
    }
)
_BOOLEAN_CLIENT_KEYS = frozenset(
    {"allow_http", "allow_invalid_certificates", "http1_only", "http2_only"}
)
# Polars' own retry keys; object_store takes them as a retry configuration.
_RETRY_KEYS = frozenset({"max_retries", "retry_timeout_ms"})
_PREFIXES = ("aws_", "google_", "azure_")


@dataclass(frozen=True)
class Location:
    """A parsed dataset root.

    Attributes
    ----------
    url
        The root as shown in messages: the local path, or the URL without a
        trailing ``/`` (never holding a secret: URLs with credentials are refused).
    cloud
        ``"s3"``, ``"gs"``, ``"azure"``, or ``None`` for a local root.
    local
        The local directory, for a local root.
    """

    url: str
    cloud: Cloud | None
    local: Path | None

    def __str__(self) -> str:
        return self.url

    def join(self, rel: str) -> str:
        """The path or URL of ``rel`` under the root, for messages and return values."""
        if self.local is not None:
            return str(self.local / rel)
        return f"{self.url}/{rel}" if rel else self.url

    @property
    def name(self) -> str:
        """The last component of the root."""
        if self.local is not None:
            return self.local.name
        return self.url.rstrip("/").rsplit("/", 1)[-1]


def parse_root(root: str | os.PathLike[str]) -> Location:
    """Parse a dataset root; refuse what no supported storage can hold.

    Examples
    --------
    >>> parse_root("s3://bucket/lake/viewers/").url
    's3://bucket/lake/viewers'
    >>> parse_root("file:///tmp/lake").local
    PosixPath('/tmp/lake')
    >>> parse_root("ftp://host/lake")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: unsupported dataset URL scheme 'ftp://' ...
    """
    if isinstance(root, os.PathLike):
        path = Path(root)
        return Location(str(path), None, path)
    if not isinstance(root, str):
        raise InvalidRequestError(
            f"a dataset root is a str or os.PathLike (a local path or a URL), "
            f"not {type(root).__name__}"
        )
    if "://" not in root:
        return Location(root, None, Path(root))
    parts = urlsplit(root)
    scheme = parts.scheme.lower()
    # abfss://container@account.dfs.core.windows.net names a container, not a user;
    # anything else before '@', and any password, is a credential.
    azure_container = _SCHEMES.get(scheme) == "azure" and parts.password is None
    if parts.password is not None or (parts.username is not None and not azure_container):
        # Never echo the URL: it holds a credential.
        shown = f"{scheme}://{parts.hostname or ''}{parts.path}"
        raise InvalidRequestError(
            f"the dataset URL {shown} holds credentials; pass them in storage_options "
            "or the environment instead"
        )
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidRequestError(f"file:// URLs name a local path, not host {parts.netloc!r}")
        path = Path(parts.path)
        return Location(str(path), None, path)
    cloud = _SCHEMES.get(scheme)
    if cloud is None:
        known = ", ".join(f"{s}://" for s in ("file", "s3", "gs", "az", "abfss"))
        raise InvalidRequestError(
            f"unsupported dataset URL scheme {scheme + '://'!r} in {root!r}; use a local path "
            f"or one of {known}"
        )
    if not parts.netloc:
        raise InvalidRequestError(f"the dataset URL {root!r} names no bucket or container")
    if parts.query or parts.fragment:
        raise InvalidRequestError(
            f"the dataset URL {scheme}://{parts.netloc}{parts.path} has a query or fragment; "
            "pass options in storage_options"
        )
    key = parts.path.strip("/")
    url = f"{scheme}://{parts.netloc}" + (f"/{key}" if key else "")
    return Location(url, cloud, None)


def check_storage_options(
    storage_options: Mapping[str, str] | None, location: Location
) -> dict[str, str]:
    """A plain copy of ``storage_options``, after checking its shape (never its values)."""
    if storage_options is None:
        return {}
    if not isinstance(storage_options, Mapping):
        raise InvalidRequestError(
            f"storage_options must be a dict of str to str, not {type(storage_options).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in storage_options.items():
        if not isinstance(key, str) or not isinstance(value, str):
            # Name the key, never the value: it may be a secret.
            raise InvalidRequestError(
                f"storage_options[{key!r}] must be a str (the keys and values Polars takes)"
            )
        out[key] = value
    if out and location.local is not None:
        raise InvalidRequestError(
            f"storage_options apply to object storage URLs; {location} is a local path"
        )
    return out


def polars_options(storage_options: Mapping[str, str]) -> dict[str, Any] | None:
    """``storage_options`` as Polars takes them: its retry keys in lower case, as integers.

    Lower case: a Delta scan merges these over the table's own options, which
    hold deltalake's ``max_retries`` (a string Polars refuses) in lower case.

    >>> polars_options({"MAX_RETRIES": "2", "aws_region": "eu-west-1"})
    {'max_retries': 2, 'aws_region': 'eu-west-1'}
    """
    if not storage_options:
        return None
    out: dict[str, Any] = {}
    for key, value in storage_options.items():
        bare = key.lower()
        if bare in _RETRY_KEYS and value.isdigit():
            out[bare] = int(value)
        else:
            out[key] = value
    return out


def delta_options(storage_options: Mapping[str, str]) -> dict[str, str] | None:
    """``storage_options`` as deltalake takes them: all strings, its own retry keys.

    deltalake hands ``max_retries`` to object_store as is, and takes the retry
    timeout as ``retry_timeout``, a duration (``"5000ms"``), not Polars'
    ``retry_timeout_ms``: translated, the user's retry settings apply to the
    Delta log's reads and to commits as they do to Polars' reads.

    >>> delta_options({"aws_region": "eu-west-1", "max_retries": "2", "retry_timeout_ms": "5000"})
    {'aws_region': 'eu-west-1', 'max_retries': '2', 'retry_timeout': '5000ms'}
    """
    if not storage_options:
        return None
    out: dict[str, str] = {}
    for key, value in storage_options.items():
        bare = key.lower()
        if bare in _RETRY_KEYS and not value.isdigit():
            raise InvalidRequestError(f"storage_options[{key!r}] must be a whole number")
        if bare == "max_retries":
            out["max_retries"] = value
        elif bare == "retry_timeout_ms":
            out["retry_timeout"] = f"{int(value)}ms"
        else:
            out[key] = value
    return out


def scrub(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every ``storage_options`` value of 4+ characters replaced by ``***``.

    >>> scrub("denied for key AKIA123 in eu-west-1", {"aws_access_key_id": "AKIA123"})
    'denied for key *** in eu-west-1'
    """
    for value in sorted(secrets.values(), key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True)
class ObjectInfo:
    """One object of a listing; ``path`` is relative to the dataset root."""

    path: str
    size: int
    last_modified: dt.datetime
    e_tag: str | None
    version: str | None


# Building an object store client costs milliseconds (its HTTP client, TLS roots),
# more than a request to a nearby store: each write needs two or three (lease,
# listing, format check). One client per root and options is kept for the
# process, as Polars and deltalake keep theirs; it also keeps its connections.
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
_MAX_CLIENTS = 32
_ENV_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_")


def _client_key(url: str, storage_options: Mapping[str, str]) -> str:
    """The cache key of a client: a digest, so that the cache holds no secret in clear.

    The environment's credentials and settings are part of it: a client built
    before they changed is not reused.
    """
    env = sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(_ENV_PREFIXES))
    raw = json.dumps([url, sorted(storage_options.items()), env])
    return hashlib.sha256(raw.encode()).hexdigest()


class ObjectStorage:
    """The objects under one object-store dataset root, through obstore.

    Every call turns the storage library's errors into :class:`DatasetError`
    naming the URL and what to do; ``repr`` shows the URL only.
    """

    def __init__(self, location: Location, storage_options: Mapping[str, str]) -> None:
        if location.cloud is None:
            raise ValueError("ObjectStorage is for object-store roots")
        self.location = location
        self._secrets = dict(storage_options)
        obstore_store = require("obstore.store", extra="lake")
        config, client, retry = _split_options(storage_options)
        key = _client_key(location.url, storage_options)
        with _clients_lock:
            cached = _clients.get(key)
        if cached is not None:
            self._store = cached
            return
        try:
            # None, not {}: an empty client_options would hide the environment's
            # own settings (AWS_ALLOW_HTTP) that object_store reads by itself.
            self._store = obstore_store.from_url(
                location.url,
                config=config or None,
                client_options=client or None,
                retry_config=retry,
            )
        except BaseException as exc:
            # obstore panics (a BaseException) on some malformed keys: a bad key
            # must be a clear error, not a crash of the caller.
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            keys = ", ".join(sorted(config)) or "(none)"
            hint = _did_you_mean(str(exc), location.cloud)
            raise InvalidRequestError(
                f"storage_options for {location} are not accepted "
                f"({self._clean(exc)}){hint}; keys given: {keys}"
            ) from None
        with _clients_lock:
            if len(_clients) >= _MAX_CLIENTS:
                del _clients[next(iter(_clients))]  # the oldest
            _clients[key] = self._store

    def __repr__(self) -> str:
        return f"ObjectStorage({self.location.url!r})"

    def _clean(self, exc: BaseException) -> str:
        # The first line only: obstore appends a multi-line debug dump.
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return scrub(text, self._secrets)

    @contextlib.contextmanager
    def faults(self, action: str, rel: str = "") -> Iterator[None]:
        """Turn a storage failure while doing ``action`` into a :class:`StorageFaultError`."""
        obstore_exc = require("obstore.exceptions", extra="lake")
        try:
            yield
        except (obstore_exc.AlreadyExistsError, obstore_exc.PreconditionError):
            raise  # the lease's conditional puts handle these
        except FileNotFoundError as exc:
            if "NoSuchBucket" in str(exc) or action != "read":
                raise StorageFaultError(self.describe(exc, action, rel)) from None
            raise
        except Exception as exc:
            raise StorageFaultError(self.describe(exc, action, rel)) from None

    def describe(self, exc: BaseException, action: str, rel: str = "") -> str:
        """A message for a storage failure: the URL, the cause (scrubbed), what to do."""
        obstore_exc = require("obstore.exceptions", extra="lake")
        url = self.location.join(rel)
        text = self._clean(exc)
        if isinstance(exc, (obstore_exc.PermissionDeniedError, obstore_exc.UnauthenticatedError)):
            advice = (
                "check the credentials (storage_options or the environment) and that they "
                "may read, write and delete under this prefix"
            )
        elif "NoSuchBucket" in str(exc) or "bucket does not exist" in str(exc):
            advice = "the bucket does not exist: create it, or correct the URL"
        elif any(k in str(exc) for k in ("403 Forbidden", "AccessDenied", "InvalidAccessKeyId")):
            # Whole phrases: a bare "403" may be part of the endpoint's port.
            advice = (
                "access was refused: check the credentials (storage_options or the "
                "environment) and the bucket policy"
            )
        else:
            advice = (
                "check the URL, the endpoint and the network, then run again "
                "(partitions are replaced whole: each one is old or new)"
            )
        return f"could not {action} {url}: {text}; {advice}"

    # -- operations ---------------------------------------------------------------------

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object under the root (or under ``prefix`` inside it), sorted by path."""
        obstore = require("obstore", extra="lake")
        out: list[ObjectInfo] = []
        with self.faults("list", prefix):
            for batch in obstore.list(self._store, prefix or None):
                out.extend(
                    ObjectInfo(
                        path=meta["path"],
                        size=meta["size"],
                        last_modified=meta["last_modified"],
                        e_tag=meta.get("e_tag"),
                        version=meta.get("version"),
                    )
                    for meta in batch
                )
        out.sort(key=lambda o: o.path)
        return out

    def get(self, rel: str) -> bytes:
        """The bytes of one object; :class:`FileNotFoundError` if it is missing."""
        obstore = require("obstore", extra="lake")
        with self.faults("read", rel):
            return bytes(obstore.get(self._store, rel).bytes())

    def get_with_etag(self, rel: str) -> tuple[bytes, str | None]:
        """The bytes of one object and its etag; :class:`FileNotFoundError` if missing."""
        obstore = require("obstore", extra="lake")
        with self.faults("read", rel):
            result = obstore.get(self._store, rel)
            return bytes(result.bytes()), result.meta.get("e_tag")

    def get_range(self, rel: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of one object."""
        obstore = require("obstore", extra="lake")
        with self.faults("read", rel):
            return bytes(obstore.get_range(self._store, rel, start=start, end=end))

    def put(self, rel: str, data: bytes, *, mode: Any = None) -> dict[str, Any]:
        """Store ``data`` as one object in one request: readers see the old or the new object.

        ``mode`` is obstore's: ``None`` overwrites, ``"create"`` fails with
        ``AlreadyExistsError`` if the object exists, ``{"e_tag": ...}`` fails
        with ``PreconditionError`` unless the object still has that etag.
        """
        obstore = require("obstore", extra="lake")
        with self.faults("write", rel):
            # One PUT (no multipart): a single request is the atomic unit everywhere,
            # and conditional puts cannot be multipart anyway.
            result: dict[str, Any] = obstore.put(
                self._store, rel, data, mode=mode, use_multipart=False
            )
            return result

    def delete(self, rel: str) -> None:
        """Delete one object (a missing one is no error)."""
        obstore = require("obstore", extra="lake")
        with self.faults("delete", rel), contextlib.suppress(FileNotFoundError):
            obstore.delete(self._store, rel)


def write_object(
    url: str, data: bytes, *, storage_options: Mapping[str, str] | None = None
) -> None:
    """Store ``data`` as the one object ``url`` names, in one PUT: whole or not at all."""
    location = parse_root(url)
    if location.local is not None or "/" not in location.url.split("://", 1)[1]:
        raise InvalidRequestError(f"{url!r} does not name an object in a bucket")
    parent, name = location.url.rsplit("/", 1)
    options = check_storage_options(storage_options, location)
    ObjectStorage(Location(parent, location.cloud, None), options).put(name, data)


# Common keys of each cloud, for "did you mean" (object_store accepts more).
_KNOWN_KEYS: Mapping[Cloud, tuple[str, ...]] = {
    "s3": (
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region",
        "aws_default_region",
        "aws_endpoint_url",
        "aws_endpoint",
        "aws_allow_http",
        "aws_virtual_hosted_style_request",
        "aws_skip_signature",
        "aws_server_side_encryption",
        "aws_sse_kms_key_id",
        "aws_request_payer",
        "aws_conditional_put",
        "aws_role_arn",
        "aws_web_identity_token_file",
    ),
    "gs": (
        "google_service_account",
        "google_service_account_key",
        "google_application_credentials",
        "google_bucket",
    ),
    "azure": (
        "azure_storage_account_name",
        "azure_storage_account_key",
        "azure_storage_sas_key",
        "azure_storage_token",
        "azure_storage_client_id",
        "azure_storage_client_secret",
        "azure_storage_tenant_id",
        "azure_use_azure_cli",
        "azure_storage_use_emulator",
        "azure_endpoint",
    ),
}


def _did_you_mean(message: str, cloud: Cloud | None) -> str:
    """``; did you mean 'x'?`` for the unknown key an object_store error names, if any."""
    match = re.search(r"key: '([^']+)'", message)
    if match is None or cloud is None:
        return ""
    known = [*_KNOWN_KEYS[cloud], *_CLIENT_KEYS, *_RETRY_KEYS]
    close = difflib.get_close_matches(match.group(1).lower(), known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _split_options(
    storage_options: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any] | None]:
    """Polars / deltalake ``storage_options`` as obstore's config, client and retry options."""
    config: dict[str, str] = {}
    client: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    for key, value in storage_options.items():
        bare = key.lower()
        for prefix in _PREFIXES:
            if bare.startswith(prefix) and bare.removeprefix(prefix) in _CLIENT_KEYS:
                bare = bare.removeprefix(prefix)
        if bare in _CLIENT_KEYS:
            client[bare] = (
                value.lower() in ("1", "true", "yes") if bare in _BOOLEAN_CLIENT_KEYS else value
            )
        elif bare in _RETRY_KEYS:
            if not value.isdigit():
                raise InvalidRequestError(f"storage_options[{key!r}] must be a whole number")
            if bare == "max_retries":
                retry["max_retries"] = int(value)
            else:
                retry["retry_timeout"] = dt.timedelta(milliseconds=int(value))
        else:
            config[key.lower()] = value
    return config, client, retry or None
