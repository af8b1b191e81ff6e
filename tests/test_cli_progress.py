"""Progress bars: in a terminal or a notebook, never in a redirected log.

Issue 11 saw bars drawn into redirected logs, and text bars in notebooks since
nothing installed ipywidgets (now the ``notebooks`` extra).
"""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import pytest
import tqdm
import tqdm.notebook

import vidiframe as vf
import vidiframe._cli_demo
import vidiframe._optional
from vidiframe._errors import MissingDependencyError
from vidiframe._fetch import _bar_class, _in_notebook, _interactive
from vidiframe.testing import FakeVidiCenter, ManualClock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class ZMQInteractiveShell:  # the shell class of a Jupyter kernel
    pass


class TerminalInteractiveShell:  # IPython in a terminal: not a notebook
    pass


def fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: object) -> None:
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_a_redirected_stderr_is_not_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not _interactive()
    monkeypatch.setattr(sys, "stderr", None)
    assert not _interactive()
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert _interactive()


def test_a_notebook_is_a_jupyter_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    fake_ipython(monkeypatch, TerminalInteractiveShell())
    assert not _in_notebook()
    assert not _interactive()
    fake_ipython(monkeypatch, None)
    assert not _in_notebook()
    fake_ipython(monkeypatch, ZMQInteractiveShell())
    assert _in_notebook()
    assert _interactive()


def test_widgets_in_a_notebook_text_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert _bar_class(enabled=True) is tqdm.tqdm
    fake_ipython(monkeypatch, ZMQInteractiveShell())
    assert _bar_class(enabled=True) is tqdm.notebook.tqdm
    assert _bar_class(enabled=False) is tqdm.tqdm


def test_a_notebook_without_ipywidgets_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ipython(monkeypatch, ZMQInteractiveShell())

    def missing(module: str, *, extra: str) -> types.ModuleType:
        raise MissingDependencyError(
            f"this feature needs {module}, which is not installed: pip install 'vidiframe[{extra}]'",
            module=module,
            extra=extra,
        )

    monkeypatch.setattr(vidiframe._optional, "require", missing)
    with pytest.warns(vf.VidiFrameWarning, match=r"pip install 'vidiframe\[notebooks\]'"):
        assert _bar_class(enabled=True) is tqdm.tqdm


def read(progress: bool | None) -> int:
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = vf.VidiCenterClient(
            "demo",
            "demo-token",
            fake.url,
            transport=fake.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
        )
        df = vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01",
            end="2025-01-01",
            locations=[4636],
            client=client,
            progress=progress,
        )
    return df.height


def test_by_default_nothing_is_drawn_into_a_redirected_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert read(progress=None) == 24
    assert capsys.readouterr().err == ""
    # The same read, asked for a bar, draws one: the test above could fail.
    assert read(progress=True) == 24
    assert "ots/1h: 100%" in capsys.readouterr().err


def test_the_demo_draws_no_bar_into_a_redirected_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(vidiframe._cli_demo, "DEMO_EXPORTS", (("viewers", "1h", False),))
    from vidiframe._cli import main

    assert main(["demo", "--lake", str(tmp_path / "lake"), "--build-seconds", "0"]) == 0
    captured = capsys.readouterr()
    assert "viewers_1h" in captured.out
    assert captured.err == ""
