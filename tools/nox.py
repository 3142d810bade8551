#!/usr/bin/env python3
"""Run nox on a fresh machine with nothing but Python 3.11+.

Finds uv (on PATH, or in .tools/), downloading its wheel from PyPI with the standard library when
absent (no pip, no venv module needed), installs nox into .tools/venv with uv, then runs nox with
the given arguments. Usage: ``python3 tools/nox.py [nox arguments]``.
"""

from __future__ import annotations

import html
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
UV_VERSION = "0.13.9"
NOX_REQUIREMENT = "nox[uv]>=2025.2.9"


def _wheel_url() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(machine)
    if arch is None or sys.platform != "linux":
        raise SystemExit(f"no uv wheel known for {sys.platform}/{machine}: install uv yourself (pip install uv)")
    # The simple index: some mirrors ignore the PEP 691 Accept header and answer PEP 503 HTML,
    # so read the file links out of whichever of the two comes back.
    request = urllib.request.Request("https://pypi.org/simple/uv/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read().decode("utf-8")
    if body.lstrip().startswith("{"):
        urls = [str(file["url"]) for file in json.loads(body)["files"]]
    else:
        urls = [html.unescape(link) for link in re.findall(r'href="([^"]+)"', body)]
    for url in urls:
        name = url.rsplit("/", 1)[-1].split("#", 1)[0]
        if (name.startswith(f"uv-{UV_VERSION}-") and name.endswith(".whl") and "manylinux" in name
                and arch in name and "musl" not in name):
            return url
    raise SystemExit("no matching uv wheel found on PyPI")


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    local = TOOLS / "bin" / "uv"
    if local.exists():
        return str(local)
    print(f"bootstrap: downloading uv {UV_VERSION} from PyPI", file=sys.stderr)
    with urllib.request.urlopen(_wheel_url(), timeout=300) as response:
        wheel = zipfile.ZipFile(io.BytesIO(response.read()))
    member = next(n for n in wheel.namelist() if n.endswith("/scripts/uv") or n.endswith("/bin/uv"))
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(wheel.read(member))
    local.chmod(local.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    return str(local)


def main() -> int:
    uv = _uv()
    venv = TOOLS / "venv"
    nox = venv / "bin" / "nox"
    if not nox.exists():
        print("bootstrap: installing nox", file=sys.stderr)
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                        NOX_REQUIREMENT], check=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), str(venv / "bin"), env.get("PATH", "")])
    os.chdir(ROOT)
    return subprocess.call([str(nox), *sys.argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
