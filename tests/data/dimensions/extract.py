"""Copy every dimension example of every version of the live documentation into JSON files.

The live documentation (``quividi/vidicenter-api-documentation``) shows one
example response per endpoint in ``topology.rst``, ``tags.rst``,
``clip_metadata.rst`` and ``status.rst``. This script walks the git history of
those files, takes the example of each GET request (a ``curl`` line followed by
a JSON list or object), repairs only what makes it invalid JSON (a comma before a
closing bracket, or a comma missing between two keys, which the docs had until
2026-07), and writes one file per
version of a file whose examples changed:
``<date>_<short commit>_<file>.json`` = ``{"source", "commit", "date", "file",
"examples": [{"url", "line", "repairs", "response"}]}``.

Only the examples are copied, never the documentation's text. Zones and
monitoring messages, which vidiframe does not read, are left out.

Usage (from the repository root, with a bare clone of the documentation)::

    .venv/bin/python tests/data/dimensions/extract.py /path/to/vidicenter-api-documentation.git
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
FILES = ("topology.rst", "tags.rst", "clip_metadata.rst", "status.rst")
SKIPPED = ("/zones/", "/monitoring_msgs/", "/monitor_msgs/")
_CURL = re.compile(r"^\s*curl -u USERNAME:AUTH_TOKEN (?P<url>https?://\S+)\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# A value ending a line, and the next line starting a key or an element: a comma is missing.
_MISSING_COMMA = re.compile(r'([\d"el}\]])(\n\s*["{])')


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={repo}", *args], check=True, capture_output=True, text=True
    ).stdout


def examples(text: str) -> list[dict[str, object]]:
    """The GET examples of one version of a file, in order."""
    lines = text.splitlines()
    found: list[dict[str, object]] = []
    for number, line in enumerate(lines):
        match = _CURL.match(line)
        if match is None or any(part in match["url"] for part in SKIPPED):
            continue
        indent = len(line) - len(line.lstrip())
        body: list[str] = []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) < indent:
                break
            if following.strip().startswith("curl "):
                break
            body.append(following)
        block = "\n".join(body).strip()
        if not block or block[0] not in "[{":
            continue
        repaired, trailing = _TRAILING_COMMA.subn(r"\1", block)
        repaired, missing = _MISSING_COMMA.subn(r"\1,\2", repaired)
        repairs = [
            *([f"{trailing} trailing comma(s) removed"] if trailing else []),
            *([f"{missing} missing comma(s) added"] if missing else []),
        ]
        found.append(
            {
                "url": match["url"],
                "line": number + 1,
                "repairs": "; ".join(repairs) or "none",
                "response": orjson.loads(repaired),
            }
        )
    return found


def main(repo: str) -> None:
    for name in FILES:
        path = f"docs/source/{name}"
        history = _git(repo, "log", "--reverse", "--format=%H %ad", "--date=short", "--", path)
        previous: object = None
        for entry in history.splitlines():
            commit, date = entry.split()
            try:
                text = _git(repo, "show", f"{commit}:{path}")
            except subprocess.CalledProcessError:
                continue
            found = examples(text)
            responses = [(e["url"], e["response"]) for e in found]
            if not found or responses == previous:
                continue
            previous = responses
            out = HERE / f"{date}_{commit[:7]}_{name.removesuffix('.rst')}.json"
            document = {
                "source": f"quividi/vidicenter-api-documentation {path} @ {commit[:7]}",
                "commit": commit,
                "date": date,
                "file": name,
                "examples": found,
            }
            out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            print(out.name, len(found))


if __name__ == "__main__":
    main(sys.argv[1])
