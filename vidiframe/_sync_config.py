"""The sync configuration: what to keep up to date, where, and how to write it.

:class:`SyncConfig` is the TOML file of ``vidiframe sync``, validated: every key
is checked before anything is read or fetched, an unknown key (storage keys
included) gets a "did you mean", and every export's query is validated with the
API's own rules. Nothing here reads a dataset or sends a request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from vidiframe._dimension_snapshots import SNAPSHOTS_DIR, snapshot_dimension, snapshot_path
from vidiframe._errors import InvalidRequestError
from vidiframe._query import SOURCE_KINDS, ExportQuery, make_query

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_TRAILING_DAYS",
    "STORAGE_OPTION_KEYS",
    "DimensionConfig",
    "ExportConfig",
    "Format",
    "Partition",
    "SchemaMode",
    "SyncConfig",
    "dataset_path",
    "parse_date",
]

#: Days before ``today`` fetched again by every run (late uploads).
DEFAULT_TRAILING_DAYS = 3
#: Estimated rows fetched and written at once: bounds memory and the work an
#: interruption loses. The client still cuts each batch under the server's limits.
DEFAULT_BATCH_ROWS = 2_000_000

Partition = Literal["auto", "day", "month", "year"]
Format = Literal["parquet", "delta"]
SchemaMode = Literal["evolve", "error", "drop"]

_PARTITIONS = ("auto", "day", "month", "year")
_FORMATS = ("parquet", "delta")
_SCHEMA_MODES = ("evolve", "error", "drop")
# Directory names a dataset may be given: no separator, no '=' (it would read as
# a partition of the lake), no leading '.' or '_' (engines skip such directories).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A URL root ("s3://bucket/lake"); the dataset layer says which schemes it writes.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_TOP_KEYS = (
    "root",
    "storage_options",
    "format",
    "schema_mode",
    "first_day",
    "trailing_days",
    "partition",
    "batch_rows",
    "dimensions",
    "export",
)
_EXPORT_KEYS = (
    "name",
    "data_type",
    "time_resolution",
    "group_by_demographics",
    *SOURCE_KINDS,
    "content_ids",
    "extrapolation_amount",
    "average_content_duration",
    "first_day",
    "trailing_days",
    "partition",
    "batch_rows",
    "format",
    "schema_mode",
    "unknown_fields",  # the older name of schema_mode's "error" and "drop"
)
# Their periods' alignment is undocumented: sync could not tell which have ended.
_UNSYNCABLE = ("7d", "30d")

#: The ``[storage_options]`` keys sync accepts: object_store's configuration keys,
#: as Polars and deltalake take them (prefixed forms; object_store also reads the
#: same settings from the environment, e.g. ``AWS_ACCESS_KEY_ID``).
STORAGE_OPTION_KEYS: tuple[str, ...] = (
    # Amazon S3 and S3-compatible servers
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_token",
    "aws_region",
    "aws_default_region",
    "aws_endpoint",
    "aws_endpoint_url",
    "aws_allow_http",
    "aws_virtual_hosted_style_request",
    "aws_skip_signature",
    "aws_imdsv1_fallback",
    "aws_metadata_endpoint",
    "aws_unsigned_payload",
    "aws_checksum_algorithm",
    "aws_conditional_put",
    "aws_copy_if_not_exists",
    "aws_request_payer",
    "aws_s3_express",
    "aws_server_side_encryption",
    "aws_sse_kms_key_id",
    "aws_sse_bucket_key_enabled",
    "aws_container_credentials_relative_uri",
    "aws_profile",
    "aws_disable_tagging",
    # Google Cloud Storage
    "google_service_account",
    "google_service_account_path",
    "google_service_account_key",
    "google_application_credentials",
    "google_bucket",
    "google_bucket_name",
    # Azure Blob Storage / ADLS Gen2
    "azure_storage_account_name",
    "azure_storage_account_key",
    "azure_storage_access_key",
    "azure_storage_client_id",
    "azure_storage_client_secret",
    "azure_storage_tenant_id",
    "azure_storage_authority_id",
    "azure_storage_sas_key",
    "azure_storage_token",
    "azure_storage_use_emulator",
    "azure_storage_endpoint",
    "azure_use_fabric_endpoint",
    "azure_use_azure_cli",
    "azure_skip_signature",
    "azure_container_name",
    "azure_msi_endpoint",
    "azure_federated_token_file",
    "azure_disable_tagging",
    # HTTP client options shared by every store
    "allow_http",
    "allow_invalid_certificates",
    "connect_timeout",
    "timeout",
    "pool_idle_timeout",
    "pool_max_idle_per_host",
    "proxy_url",
    "proxy_ca_certificate",
    "proxy_excludes",
    "user_agent",
    "http1_only",
    "http2_only",
    "default_content_type",
    # Polars' retry settings
    "max_retries",
    "retry_timeout_ms",
)


def parse_date(value: object, key: str, where: str) -> dt.date:
    """A ``datetime.date`` from a date or ISO text, or an error naming ``key``.

    Examples
    --------
    >>> parse_date("2025-01-05", "today", "sync")
    datetime.date(2025, 1, 5)
    >>> parse_date("soon", "today", "sync")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: sync: 'today' must be a date (YYYY-MM-DD), got 'soon'
    """
    if isinstance(value, dt.datetime):
        raise InvalidRequestError(f"{where}: {key!r} must be a date, not a date and time ({value})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidRequestError(f"{where}: {key!r} must be a date (YYYY-MM-DD), got {value!r}")


@dataclass(frozen=True)
class ExportConfig:
    """One export kept up to date: what to fetch and where its dataset lives.

    Build it through :class:`SyncConfig`, which validates every key.

    Attributes
    ----------
    name
        The dataset's name under the configuration's ``root``.
    path
        ``root / name``: a :class:`pathlib.Path` for a local root, the URL
        (``"s3://bucket/lake/ots_1h"``) for object storage.
    query
        The export's validated query; its ``start``/``end`` are placeholders
        (sync sets them per batch).
    first_day
        The first day kept.
    trailing_days
        Days before ``today`` fetched again by every run.
    partition
        ``"auto"``, ``"day"``, ``"month"`` or ``"year"``. ``auto`` keeps an
        existing dataset's partitioning, else uses
        :func:`~vidiframe._partitioning.period_for_resolution`.
    batch_rows
        Estimated rows fetched and written at once.
    format
        ``"parquet"`` (Hive directories) or ``"delta"`` (a Delta Lake table),
        for a new dataset; an existing one keeps its format.
    schema_mode
        What to do when the API sends a field the dataset has no column for:
        ``"evolve"`` (default) adds the column (older rows read back null in
        it); ``"error"`` stops before the batch is written; ``"drop"`` writes
        the batch without the field and reports it.
    storage_options
        The configuration's ``[storage_options]``; never shown in a repr.
    """

    name: str
    path: Path | str
    query: ExportQuery
    first_day: dt.date
    trailing_days: int = DEFAULT_TRAILING_DAYS
    partition: Partition = "auto"
    batch_rows: int = DEFAULT_BATCH_ROWS
    format: Format = "parquet"
    schema_mode: SchemaMode = "evolve"
    storage_options: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def data_type(self) -> str:
        """The export's ``data_type``."""
        return self.query.data_type

    @property
    def time_resolution(self) -> str:
        """The export's ``time_resolution``."""
        return self.query.time_resolution

    def query_for(self, start: dt.date, end: dt.date) -> ExportQuery:
        """The query of the days ``start`` to ``end``, both whole and inclusive."""
        return self.query.replace(
            start=dt.datetime.combine(start, dt.time()),
            end=dt.datetime.combine(end, dt.time(23, 59, 59)),
        )


@dataclass(frozen=True)
class DimensionConfig:
    """One dimension kept as daily snapshots beside the exports.

    Build it through :class:`SyncConfig` (its ``dimensions`` list).

    Attributes
    ----------
    name
        The dimension, as the configuration lists it (``locations``,
        ``sites_vehicles`` ...).
    path
        ``root / "dimensions" / name``: a :class:`pathlib.Path`, or a URL.
    format
        The configuration's top-level ``format``; stored snapshots of another
        format are refused before anything is fetched, as an export's dataset is.
    schema_mode
        The configuration's top-level ``schema_mode``: what a field the API adds
        to the dimension does to the stored snapshots.
    storage_options
        The configuration's ``[storage_options]``; never shown in a repr.
    """

    name: str
    path: Path | str
    format: Format = "parquet"
    schema_mode: SchemaMode = "evolve"
    storage_options: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def dimension(self) -> str:
        """The registry's dimension read (``sites`` for ``sites_vehicles``)."""
        return snapshot_dimension(self.name)[0]

    @property
    def vehicles(self) -> bool:
        """Whether it is read from ``/sites/vehicles/`` (with ``vehicles_factors``)."""
        return snapshot_dimension(self.name)[1]


@dataclass(frozen=True)
class SyncConfig:
    """What :func:`~vidiframe.sync` keeps up to date: a dataset root and its exports.

    Load it from TOML with :meth:`load`, or build it from a mapping with
    :meth:`from_dict`. The file::

        root = "lake"            # datasets go to lake/<name>; relative to this file
                                 # or a URL: "s3://bucket/lake", "gs://...", "az://..."
        first_day = 2025-01-01   # the first day kept (a TOML date or "YYYY-MM-DD")
        trailing_days = 3        # days before today fetched again by every run
        # partition = "auto"     # day | month | year; auto: by time_resolution
        # batch_rows = 2000000   # estimated rows fetched and written at once
        # format = "parquet"     # or "delta": a Delta Lake table (new datasets)
        # schema_mode = "evolve" # a field the API adds: evolve | error | drop
        dimensions = ["locations", "sites", "networks"]
                                 # daily snapshots in lake/dimensions/<name>

        [storage_options]        # for a URL root; the keys Polars and deltalake take
        aws_region = "eu-west-1" # credentials may come from the environment instead

        [[export]]
        data_type = "viewers"
        time_resolution = "1h"
        group_by_demographics = true
        locations = [4636, 4637]     # or sites, location_tags, site_tags
        # name = "viewers_1h_demographics"   # the default name

        [[export]]
        data_type = "ots"
        time_resolution = "15m"
        sites = [178]
        trailing_days = 7            # first_day, trailing_days, partition,
                                     # batch_rows, format and schema_mode may be
                                     # set per export

    Every ``[[export]]`` also accepts ``content_ids``, ``extrapolation_amount``
    and ``average_content_duration``, as :func:`~vidiframe.read_vidicenter`.
    The older key ``unknown_fields = "error" | "drop"`` is read as
    ``schema_mode`` with the same value.

    ``dimensions`` lists the dimensions to keep as daily snapshots, each read
    once per run (``networks``, ``sites``, ``sites_vehicles``, ``locations``,
    ``boxes``, ``site_tags``, ``location_tags``, ``clip_metadata``,
    ``alerts``); they are stored in the top-level ``format`` at
    ``<root>/dimensions/<name>`` (see
    :func:`~vidiframe.scan_dimension_snapshots`). No export may then be named
    ``dimensions``.

    Attributes
    ----------
    root
        Where the datasets live: a :class:`pathlib.Path`, or a URL as text.
    exports
        The exports, in the configuration's order.
    storage_options
        The ``[storage_options]`` table (values as text); never shown in a repr.
    dimensions
        The dimensions kept as daily snapshots, in the configuration's order.
    """

    root: Path | str
    exports: tuple[ExportConfig, ...]
    storage_options: Mapping[str, str] | None = field(default=None, repr=False)
    dimensions: tuple[DimensionConfig, ...] = ()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SyncConfig:
        """Read and validate a TOML configuration file.

        A relative ``root`` is relative to the file's directory, so a scheduled
        job finds the same datasets from any working directory.

        Raises
        ------
        InvalidRequestError
            The file is missing or not TOML, or a key is unknown or invalid (the
            message names it).
        """
        if not isinstance(path, (str, os.PathLike)):
            # Path(3) would be a raw TypeError; sync() and plan_sync() pass any non-SyncConfig here.
            raise InvalidRequestError(
                f"a sync configuration is a SyncConfig or the path of a TOML file, "
                f"not {type(path).__name__}"
            )
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            try:
                import tomli as tomllib
            except ModuleNotFoundError:
                raise InvalidRequestError(
                    "reading a sync configuration on Python 3.10 needs the tomli package "
                    "(pip install tomli)"
                ) from None
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidRequestError(f"sync configuration {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidRequestError(f"cannot read sync configuration {file}: {error}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InvalidRequestError(f"{file} is not valid TOML: {error}") from None
        return cls.from_dict(data, base_dir=file.resolve().parent, source=str(file))

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        source: str = "sync configuration",
    ) -> SyncConfig:
        """Validate a configuration given as a mapping (the TOML file's content).

        Parameters
        ----------
        data
            The keys of the TOML file; dates may be ``datetime.date`` or ISO text.
        base_dir
            What a relative local ``root`` is relative to (default: the working
            directory).
        source
            How error messages name the configuration.

        Raises
        ------
        InvalidRequestError
            For an unknown or invalid key, naming it.

        Examples
        --------
        >>> SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
        ...                       "export": [{"data_type": "ots", "time_resolution": "1h",
        ...                                   "locations": 4636, "trailing_day": 2}]})
        Traceback (most recent call last):
        ...
        vidiframe._errors.InvalidRequestError: ...: unknown key 'trailing_day' (did you mean 'trailing_days'?)

        A URL root, with its storage options (never shown in a repr):

        >>> config = SyncConfig.from_dict({
        ...     "root": "s3://bucket/lake/", "first_day": "2025-01-01", "format": "delta",
        ...     "storage_options": {"aws_region": "eu-west-1", "aws_allow_http": True,
        ...                         "aws_secret_access_key": "s3cret"},
        ...     "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 4636}]})
        >>> config.exports[0].path, config.exports[0].format, config.storage_options["aws_allow_http"]
        ('s3://bucket/lake/ots_1h', 'delta', 'true')
        >>> "s3cret" in repr(config)
        False
        """
        if not isinstance(data, Mapping):
            raise InvalidRequestError(
                f"{source}: expected a table of keys, got {type(data).__name__}"
            )
        _check_keys(data, _TOP_KEYS, source)
        root = _root(data, base_dir, source)
        options = _storage_options(data.get("storage_options"), source)
        if options and isinstance(root, Path):
            raise InvalidRequestError(
                f"{source}: [storage_options] applies to a URL root (s3://, gs://, az://, "
                f"abfss://), but 'root' is the local directory {root}"
            )

        first_day = _date_or_none(data.get("first_day"), "first_day", source)
        defaults = {
            "trailing_days": _count(
                data.get("trailing_days", DEFAULT_TRAILING_DAYS), "trailing_days", source
            ),
            "partition": _choice(data.get("partition", "auto"), "partition", _PARTITIONS, source),
            "batch_rows": _count(
                data.get("batch_rows", DEFAULT_BATCH_ROWS), "batch_rows", source, 1
            ),
            "format": _choice(data.get("format", "parquet"), "format", _FORMATS, source),
            "schema_mode": _schema_mode(data, "evolve", source),
        }

        tables = data.get("export")
        if not isinstance(tables, Sequence) or isinstance(tables, str) or not tables:
            raise InvalidRequestError(
                f"{source}: at least one [[export]] table is required "
                "(data_type, time_resolution and sources)"
            )
        exports: list[ExportConfig] = []
        names: dict[str, int] = {}
        for number, table in enumerate(tables, start=1):
            where = f"{source}: [[export]] #{number}"
            export = _export(
                table,
                where,
                root=root,
                first_day=first_day,
                defaults=defaults,
                storage_options=options,
            )
            if export.name in names:
                raise InvalidRequestError(
                    f"{where} ({export.name}): name {export.name!r} is already used by [[export]] "
                    f"#{names[export.name]}; give each export its own 'name'"
                )
            names[export.name] = number
            exports.append(export)
        dimensions = _dimensions(
            data.get("dimensions", ()),
            source,
            root=root,
            defaults=defaults,
            storage_options=options,
        )
        if dimensions and SNAPSHOTS_DIR in names:
            raise InvalidRequestError(
                f"{source}: [[export]] #{names[SNAPSHOTS_DIR]} is named {SNAPSHOTS_DIR!r}, where "
                "the dimension snapshots are kept; give it another 'name'"
            )
        return cls(
            root=root, exports=tuple(exports), storage_options=options, dimensions=dimensions
        )

    def with_trailing_days(self, days: int) -> SyncConfig:
        """The same configuration with every export's ``trailing_days`` set to ``days``.

        Examples
        --------
        >>> config = SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
        ...     "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 1}]})
        >>> config.with_trailing_days(10).exports[0].trailing_days
        10
        """
        days = _count(days, "trailing_days", "with_trailing_days")
        exports = tuple(dataclasses.replace(e, trailing_days=days) for e in self.exports)
        return dataclasses.replace(self, exports=exports)


def dataset_path(root: Path | str, name: str) -> Path | str:
    """Where the dataset ``name`` lives under ``root`` (a path, or a URL).

    Examples
    --------
    >>> dataset_path("s3://bucket/lake", "ots_1h"), dataset_path(Path("/lake"), "ots_1h")
    ('s3://bucket/lake/ots_1h', PosixPath('/lake/ots_1h'))
    """
    if isinstance(root, Path):
        return root / name
    return f"{root.rstrip('/')}/{name}"


def _dimensions(
    value: object,
    source: str,
    *,
    root: Path | str,
    defaults: Mapping[str, Any],
    storage_options: dict[str, str] | None,
) -> tuple[DimensionConfig, ...]:
    where = f"{source}: 'dimensions'"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidRequestError(
            f'{where} must be a list of dimension names, e.g. ["locations", "sites"], got {value!r}'
        )
    dimensions: list[DimensionConfig] = []
    for name in value:
        snapshot_dimension(name, where)
        if any(d.name == name for d in dimensions):
            raise InvalidRequestError(f"{where} lists {name!r} twice")
        dimensions.append(
            DimensionConfig(
                name=name,
                path=snapshot_path(root, name),
                format=defaults["format"],
                schema_mode=defaults["schema_mode"],
                storage_options=storage_options,
            )
        )
    return tuple(dimensions)


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = (
                f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(allowed)}"
            )
            raise InvalidRequestError(f"{where}: unknown key {key!r}{hint}")


def _root(data: Mapping[str, Any], base_dir: object, source: str) -> Path | str:
    if "root" not in data:
        raise InvalidRequestError(f"{source}: 'root' is required (the datasets' directory or URL)")
    value = data["root"]
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise InvalidRequestError(
            f"{source}: 'root' must be a directory path or a URL, got {value!r}"
        )
    text = os.fspath(value)
    if isinstance(text, str) and _URL.match(text):
        # Kept as written: the dataset layer checks the scheme (and names the
        # supported ones) before anything is read or created.
        stripped = text.rstrip("/")
        return text if stripped.endswith(":") else stripped
    root = Path(value).expanduser()
    if not root.is_absolute():
        root = Path(cast("str", base_dir) if base_dir is not None else Path.cwd()) / root
    return root


def _storage_options(value: object, source: str) -> dict[str, str] | None:
    if value is None:
        return None
    where = f"{source}: [storage_options]"
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"{where} must be a table of keys")
    _check_keys(value, STORAGE_OPTION_KEYS, where)
    options: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            options[key] = "true" if item else "false"
        elif isinstance(item, (str, int)):
            options[key] = str(item)
        else:
            # The value is not shown: it may be a secret.
            raise InvalidRequestError(
                f"{where}: {key!r} must be text, a number or true/false, "
                f"got a {type(item).__name__}"
            )
    return options


def _date_or_none(value: object, key: str, where: str) -> dt.date | None:
    if value is None:
        return None
    return parse_date(value, key, where)


def _count(value: object, key: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(
            f"{where}: {key!r} must be a whole number >= {minimum}, got {value!r}"
        )
    return value


def _choice(value: object, key: str, allowed: Sequence[str], where: str) -> Any:
    if value not in allowed:
        raise InvalidRequestError(
            f"{where}: {key!r} must be one of {', '.join(map(repr, allowed))}, got {value!r}"
        )
    return value


def _schema_mode(table: Mapping[str, Any], default: SchemaMode, where: str) -> SchemaMode:
    """``schema_mode``, or the older ``unknown_fields`` it replaces."""
    if "unknown_fields" not in table:
        mode = table.get("schema_mode", default)
        return cast(SchemaMode, _choice(mode, "schema_mode", _SCHEMA_MODES, where))
    old = table["unknown_fields"]
    if old not in ("error", "drop"):
        raise InvalidRequestError(
            f"{where}: 'unknown_fields' (the older name of schema_mode) must be \"error\" "
            f'or "drop", got {old!r}; schema_mode = "evolve" keeps new fields as columns'
        )
    if "schema_mode" in table and table["schema_mode"] != old:
        raise InvalidRequestError(
            f"{where}: unknown_fields = {old!r} and schema_mode = {table['schema_mode']!r} "
            "disagree; keep only schema_mode (unknown_fields is its older name)"
        )
    return cast(SchemaMode, old)


def _export(
    table: object,
    where: str,
    *,
    root: Path | str,
    first_day: dt.date | None,
    defaults: Mapping[str, Any],
    storage_options: dict[str, str] | None,
) -> ExportConfig:
    if not isinstance(table, Mapping):
        raise InvalidRequestError(f"{where}: expected a table of keys, got {table!r}")
    _check_keys(table, _EXPORT_KEYS, where)
    for key in ("data_type", "time_resolution"):
        if key not in table:
            raise InvalidRequestError(f"{where}: {key!r} is required")
    data_type, resolution = table["data_type"], table["time_resolution"]
    demographics = table.get("group_by_demographics", False)
    if resolution in _UNSYNCABLE:
        raise InvalidRequestError(
            f"{where}: time_resolution {resolution!r} cannot be synced: the API does not "
            "document where these periods start, so sync cannot tell which have ended; "
            "sync '1d' and aggregate it (DataFrame.group_by_dynamic) instead"
        )
    name = table.get("name")
    if name is None and isinstance(data_type, str) and isinstance(resolution, str):
        name = f"{data_type}_{resolution}" + ("_demographics" if demographics is True else "")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequestError(
            f"{where}: 'name' must be a directory name of letters, digits, '_', '.' and '-' "
            f"not starting with '.', '_' or '-', got {name!r}"
        )
    where = f"{where} ({name})"
    day = _date_or_none(table.get("first_day"), "first_day", where) or first_day
    if day is None:
        raise InvalidRequestError(
            f"{where}: 'first_day' is required, at the top level or in each [[export]]"
        )
    try:
        # Validated with the API's own rules now, so a bad export fails before any
        # other export is fetched.
        query = make_query(
            data_type=data_type,
            time_resolution=resolution,
            start=day,
            end=day,
            group_by_demographics=demographics,
            **{key: table.get(key) for key in SOURCE_KINDS},
            content_ids=table.get("content_ids"),
            extrapolation_amount=table.get("extrapolation_amount"),
            average_content_duration=table.get("average_content_duration"),
        )
    except InvalidRequestError as error:
        raise InvalidRequestError(f"{where}: {error}") from None
    return ExportConfig(
        name=name,
        path=dataset_path(root, name),
        query=query,
        first_day=day,
        trailing_days=_count(
            table.get("trailing_days", defaults["trailing_days"]), "trailing_days", where
        ),
        partition=_choice(
            table.get("partition", defaults["partition"]), "partition", _PARTITIONS, where
        ),
        batch_rows=_count(table.get("batch_rows", defaults["batch_rows"]), "batch_rows", where, 1),
        format=_choice(table.get("format", defaults["format"]), "format", _FORMATS, where),
        schema_mode=_schema_mode(table, defaults["schema_mode"], where),
        storage_options=storage_options,
    )
