"""Credentials: arguments, then environment, then netrc; http refused off loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import vidiframe as vf
from vidiframe._credentials import (
    Credentials,
    check_base_url,
    is_loopback,
    resolve_credentials,
)

TOKEN = "tok-3f9a1c77e2"


@pytest.fixture
def netrc_file(tmp_path: Path) -> Path:
    path = tmp_path / "netrc"
    path.write_text(
        "machine vidicenter.quividi.com login netrc-user password netrc-token\n"
        "machine 127.0.0.1 login local password local-token\n"
    )
    path.chmod(0o600)
    return path


def test_arguments_win(netrc_file: Path) -> None:
    env = {"VIDICENTER_USERNAME": "env-user", "VIDICENTER_TOKEN": "env-token"}
    c = resolve_credentials("arg-user", TOKEN, env=env, netrc_path=netrc_file)
    assert (c.username, c.token, c.base_url) == (
        "arg-user",
        TOKEN,
        "https://vidicenter.quividi.com",
    )


def test_environment_then_netrc(netrc_file: Path) -> None:
    env = {
        "VIDICENTER_USERNAME": "env-user",
        "VIDICENTER_TOKEN": "env-token",
        "VIDICENTER_URL": "https://eu.vidicenter.example/",
    }
    c = resolve_credentials(env=env, netrc_path=netrc_file)
    assert (c.username, c.token, c.base_url) == (
        "env-user",
        "env-token",
        "https://eu.vidicenter.example",
    )
    c = resolve_credentials(env={}, netrc_path=netrc_file)
    assert (c.username, c.token) == ("netrc-user", "netrc-token")


def test_netrc_entry_is_chosen_by_host(netrc_file: Path) -> None:
    c = resolve_credentials(base_url="http://127.0.0.1:8765", env={}, netrc_path=netrc_file)
    assert (c.username, c.token, c.base_url) == ("local", "local-token", "http://127.0.0.1:8765")


def test_netrc_token_is_not_paired_with_another_username(netrc_file: Path) -> None:
    with pytest.raises(vf.InvalidRequestError, match="no VidiCenter token"):
        resolve_credentials("someone-else", env={}, netrc_path=netrc_file)
    # The env token with the netrc login is fine: each value has one owner.
    c = resolve_credentials(env={"VIDICENTER_TOKEN": "env-token"}, netrc_path=netrc_file)
    assert (c.username, c.token) == ("netrc-user", "env-token")


def test_missing_credentials_say_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(vf.InvalidRequestError) as info:
        resolve_credentials(env={}, netrc_path=tmp_path / "absent")
    message = str(info.value)
    assert "username and token" in message
    assert "VIDICENTER_USERNAME" in message
    assert "machine vidicenter.quividi.com" in message
    assert "username=" in message


def test_missing_credentials_in_command_line_terms(tmp_path: Path) -> None:
    with pytest.raises(vf.InvalidRequestError) as info:
        resolve_credentials("demo", env={}, netrc_path=tmp_path / "absent", for_command_line=True)
    message = str(info.value)
    assert message.startswith("no VidiCenter token found: ")
    assert "--username" in message
    assert "VIDICENTER_TOKEN" in message
    assert "=" not in message  # no Python keyword arguments on the command line


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_netrc_other_users_can_read_gives_a_warning(netrc_file: Path, mode: int) -> None:
    netrc_file.chmod(mode)
    with pytest.warns(
        vf.VidiFrameWarning, match=re.escape(f"mode 0{mode:o}): run chmod 600 {netrc_file}")
    ):
        c = resolve_credentials(env={}, netrc_path=netrc_file)
    assert c.token == "netrc-token"  # used all the same, as curl does


def test_a_private_netrc_gives_no_warning(netrc_file: Path) -> None:
    # filterwarnings = error: any warning would fail this test.
    assert resolve_credentials(env={}, netrc_path=netrc_file).token == "netrc-token"


def test_unparsable_netrc_does_not_echo_its_content(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(f"machine vidicenter.quividi.com login u password {TOKEN}\nbogus {TOKEN}\n")
    with pytest.raises(vf.InvalidRequestError, match="cannot parse") as info:
        resolve_credentials(env={}, netrc_path=path)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://vidicenter.quividi.com",
        "http://10.0.0.8:8000",
        "http://localhost.example.com",
        "HTTP://vidicenter.quividi.com/",
    ],
)
def test_plain_http_off_loopback_is_refused(url: str) -> None:
    with pytest.raises(vf.InsecureURLError, match="refusing plain http"):
        resolve_credentials("u", TOKEN, url, env={})


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://127.4.5.6", "http://[::1]:9000", "http://localhost:1"],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert resolve_credentials("u", TOKEN, url, env={}).base_url == url


def test_insecure_env_url_is_refused_before_credentials_are_looked_up(tmp_path: Path) -> None:
    env = {"VIDICENTER_URL": "http://vidicenter.quividi.com"}
    with pytest.raises(vf.InsecureURLError):
        resolve_credentials(env=env, netrc_path=tmp_path / "absent")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://vidicenter.quividi.com", "must look like"),
        ("vidicenter.quividi.com", "must look like"),
        ("", "must be a URL"),
        (f"https://u:{TOKEN}@vidicenter.quividi.com", "must not contain credentials"),
        ("https://vidicenter.quividi.com/?x=1", "query or fragment"),
        ("https://vidicenter.quividi.com:99999", "not a valid URL"),
    ],
)
def test_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(vf.InvalidRequestError, match=message) as info:
        check_base_url(url)
    assert TOKEN not in str(info.value)


def test_loopback_hosts() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "127.255.0.9", "::1", "[::1]", "LOCALHOST")] == [
        True
    ] * 5
    assert [is_loopback(h) for h in ("128.0.0.1", "0.0.0.0", "example.com", "::2")] == [False] * 4


def test_token_is_hidden_everywhere_but_the_header() -> None:
    c = Credentials("demo", TOKEN, "https://vidicenter.quividi.com")
    assert TOKEN not in repr(c)
    assert TOKEN not in str(c)
    assert TOKEN not in f"{c}"
    assert c.authorization() == "Basic ZGVtbzp0b2stM2Y5YTFjNzdlMg=="
    assert c.redact(f"token={TOKEN} header={c.authorization()}") == "token=*** header=Basic ***"
