"""Where the username, token and server URL come from, and keeping the token secret.

Each value is taken from the first place that has it: the arguments, then the
environment (``VIDICENTER_USERNAME``, ``VIDICENTER_TOKEN``, ``VIDICENTER_URL``),
then the ``~/.netrc`` entry of the server's host. The URL is checked before
anything else: VidiCenter revokes a token sent over plain http, so ``http://`` is
refused unless the host is loopback (the fake server, a local tunnel). A
``.netrc`` that other users can read gives a warning, as curl does.

Messages say what to do in the caller's terms: ``username=`` in Python,
``--username`` on the command line (``for_command_line=True``).
"""

from __future__ import annotations

import base64
import ipaddress
import netrc
import os
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from vidiframe._errors import InsecureURLError, InvalidRequestError, VidiFrameWarning

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_TOKEN",
    "ENV_URL",
    "ENV_USERNAME",
    "Credentials",
    "check_base_url",
    "is_loopback",
    "resolve_credentials",
]

DEFAULT_BASE_URL = "https://vidicenter.quividi.com"
ENV_USERNAME = "VIDICENTER_USERNAME"
ENV_TOKEN = "VIDICENTER_TOKEN"  # noqa: S105 - the variable's name, not a token
ENV_URL = "VIDICENTER_URL"

_REDACTED = "***"


@dataclass(frozen=True)
class Credentials:
    """A username, its API token and the server they are for.

    The token never appears in ``repr`` or ``str``; use :meth:`redact` on any text
    that might contain it before it is logged or raised.

    Examples
    --------
    >>> c = Credentials("demo", "s3cret", "https://vidicenter.quividi.com")
    >>> c
    Credentials(username='demo', token='***', base_url='https://vidicenter.quividi.com')
    >>> c.redact("sent s3cret")
    'sent ***'
    """

    username: str
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL

    def __repr__(self) -> str:
        return (
            f"Credentials(username={self.username!r}, token={_REDACTED!r}, "
            f"base_url={self.base_url!r})"
        )

    __str__ = __repr__

    def authorization(self) -> str:
        """The value of the ``Authorization`` header (HTTP Basic)."""
        pair = f"{self.username}:{self.token}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def redact(self, text: str) -> str:
        """``text`` with the token and its Basic-auth form replaced by ``***``."""
        for secret in (self.authorization().removeprefix("Basic "), self.token):
            if secret:
                text = text.replace(secret, _REDACTED)
        return text


def is_loopback(host: str) -> bool:
    """Whether ``host`` is the local machine: ``localhost``, 127.0.0.0/8 or ``::1``.

    Examples
    --------
    >>> is_loopback("127.1.2.3"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("vidicenter.quividi.com"), is_loopback("10.0.0.1")
    (False, False)
    """
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _how_to_authenticate(host: str | None, *, for_command_line: bool) -> str:
    netrc_line = f"add 'machine {host or 'HOST'} login USER password TOKEN' to ~/.netrc"
    if for_command_line:
        return f"give --username (or set {ENV_USERNAME}), set {ENV_TOKEN}, or {netrc_line}"
    return f"pass username= and token=, set {ENV_USERNAME} and {ENV_TOKEN}, or {netrc_line}"


def check_base_url(url: str, *, for_command_line: bool = False) -> str:
    """Validate a server URL and return it without a trailing slash.

    Raises
    ------
    InsecureURLError
        For ``http://`` to a host that is not loopback.
    InvalidRequestError
        For anything that is not an ``http(s)://host[:port][/path]`` URL, including
        credentials, a query or a fragment in the URL.

    Examples
    --------
    >>> check_base_url("http://127.0.0.1:8765/")
    'http://127.0.0.1:8765'
    >>> check_base_url("http://vidicenter.quividi.com")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InsecureURLError: refusing plain http to 'vidicenter.quividi.com': ...
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequestError(f"base_url must be a URL string, got {url!r}")
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as error:
        raise InvalidRequestError(f"base_url {url!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidRequestError(f"base_url must look like https://host[:port], got {url!r}")
    if parts.username is not None or parts.password is not None:
        # Never echo the URL here: its userinfo may be the token.
        how = _how_to_authenticate(None, for_command_line=for_command_line)
        raise InvalidRequestError(f"base_url must not contain credentials: {how}")
    if parts.query or parts.fragment:
        raise InvalidRequestError(f"base_url must not have a query or fragment, got {url!r}")
    if parts.scheme == "http" and not is_loopback(host):
        raise InsecureURLError(
            f"refusing plain http to {host!r}: VidiCenter revokes a token sent without TLS; "
            "use https:// (plain http is only allowed to loopback hosts)"
        )
    return url.strip().rstrip("/")


def resolve_credentials(
    username: str | None = None,
    token: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    netrc_path: str | os.PathLike[str] | None = None,
    for_command_line: bool = False,
) -> Credentials:
    """Find the credentials: arguments, then environment, then ``~/.netrc``.

    Parameters
    ----------
    username, token, base_url
        Explicit values; ``None`` means "look further".
    env
        The environment to read (default :data:`os.environ`).
    netrc_path
        The netrc file (default ``$NETRC`` or ``~/.netrc``). A missing file is
        not an error; one that other users may read gives a
        :class:`~vidiframe.VidiFrameWarning`.
    for_command_line
        Phrase errors for the command line (``--username``) instead of Python
        (``username=``).

    Returns
    -------
    Credentials

    Raises
    ------
    InsecureURLError, InvalidRequestError
        For a bad URL (checked before the rest), or when no username or token is
        found anywhere.

    Examples
    --------
    >>> env = {"VIDICENTER_USERNAME": "demo", "VIDICENTER_TOKEN": "t",
    ...        "VIDICENTER_URL": "http://localhost:8000"}
    >>> resolve_credentials(env=env, netrc_path="/nonexistent")
    Credentials(username='demo', token='***', base_url='http://localhost:8000')
    """
    env = os.environ if env is None else env
    url = check_base_url(
        base_url or env.get(ENV_URL) or DEFAULT_BASE_URL, for_command_line=for_command_line
    )
    username = username or env.get(ENV_USERNAME) or None
    token = token or env.get(ENV_TOKEN) or None
    if username is None or token is None:
        login, password = _from_netrc(url, netrc_path, env)
        # A netrc token belongs to its login: never pair it with another username.
        if username is None:
            username = login
        if token is None and login is not None and login == username:
            token = password
    if not username or not token:
        missing = " and ".join(
            name for name, value in (("username", username), ("token", token)) if not value
        )
        how = _how_to_authenticate(urlsplit(url).hostname, for_command_line=for_command_line)
        raise InvalidRequestError(f"no VidiCenter {missing} found: {how}")
    return Credentials(username=username, token=token, base_url=url)


def _from_netrc(
    url: str, path: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> tuple[str | None, str | None]:
    if path is None:
        path = env.get("NETRC") or Path("~/.netrc").expanduser()
    path = Path(path)
    if not path.is_file():
        return None, None
    try:
        entry = netrc.netrc(str(path)).authenticators(urlsplit(url).hostname or "")
    except netrc.NetrcParseError as error:
        # Its message quotes the offending word, which may be a password: give the line only.
        raise InvalidRequestError(f"cannot parse {path} near line {error.lineno}") from None
    except OSError as error:
        raise InvalidRequestError(f"cannot read {path}: {error.strerror}") from None
    if entry is None:
        return None, None
    login, _account, password = entry
    if password:
        _warn_if_others_can_read(path)
    return login or None, password or None


def _warn_if_others_can_read(path: Path) -> None:
    """Warn, as curl does, when a netrc holding a token is open to other users."""
    if os.name != "posix":
        return  # Windows has ACLs, not mode bits
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        warnings.warn(
            f"{path} holds a VidiCenter token and other users of this machine may read it "
            f"(mode {mode:04o}): run chmod 600 {path}",
            VidiFrameWarning,
            stacklevel=4,
        )
