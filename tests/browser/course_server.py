"""The course as `make course` starts it, for tests: `mesalib lab` on a copy of the course.

Runs the real launcher (`python -m mesalib.teaching.cli lab ...`) in a temporary course folder on a
free 127.0.0.1 port, reads the address it prints, and stops it by PID with SIGINT, as a learner's
Ctrl+C would. Jupyter's config, data and runtime folders point into the test's own temporary folder,
so a test never reads or writes the machine's Jupyter settings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Opens 127.0.0.1 addresses directly, whatever http_proxy says."""
URL = re.compile(r"^\s+(http://127\.0\.0\.1:(\d+)/lab/tree/(\S+)\?token=(\w+))\s*$")


def copy_course(dest: Path) -> Path:
    """The learner-facing folders of the course, copied to `dest` (lessons/, solutions/, course/)."""
    for name in ("lessons", "solutions", "course"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_jupyter_env(home: Path) -> dict[str, str]:
    """This environment, with Jupyter's and IPython's folders inside `home`."""
    env = dict(os.environ)
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    env.pop("MPLBACKEND", None)  # a learner's kernel draws inline; Agg would show no pictures at all
    return env


class CourseServer:
    """`mesalib lab NOTEBOOK --root ROOT --port PORT --no-browser`, and what it printed."""

    def __init__(self, root: Path, home: Path, notebook: str = "lessons/00_welcome.ipynb"):
        self.root, self.port = root, free_port()
        self.output: list[str] = []
        self.url = self.token = self.notebook = ""
        bin_dir = Path(sys.executable).parent
        env = isolated_jupyter_env(home)
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != str(bin_dir))
        self.env = env  # the launcher must put bin_dir first on the server's PATH by itself
        command = [sys.executable, "-m", "mesalib.teaching.cli", "lab", notebook, "--root", str(root)]
        command += ["--port", str(self.port), "--no-browser"]
        self.proc = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._found = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            match = URL.match(line)
            if match and not self._found.is_set():
                self.url, _, self.notebook, self.token = match.groups()
                self._found.set()
        self._found.set()  # the launcher exited: wake the waiter

    def wait_for_url(self, timeout: float = 120.0) -> str:
        """The address the launcher printed, once the server answers there."""
        if not self._found.wait(timeout) or not self.url:
            raise AssertionError(f"mesalib lab printed no address within {timeout:.0f}s:\n{self.text()}")
        return self.url

    def get(self, path: str, token: str | None = None):
        """GET `path` on the server with the printed token (or `token`): (status, parsed JSON or text)."""
        sep = "&" if "?" in path else "?"
        url = f"http://127.0.0.1:{self.port}{path}{sep}token={self.token if token is None else token}"
        try:
            with DIRECT.open(url, timeout=10) as resp:
                body = resp.read().decode()
                kind = resp.headers.get("Content-Type", "")
                return resp.status, json.loads(body) if "json" in kind else body
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def server_pid(self) -> int:
        """The JupyterLab server's PID: the launcher's one child process."""
        import psutil

        children = psutil.Process(self.proc.pid).children()
        assert len(children) == 1, children
        return children[0].pid

    def text(self) -> str:
        return "".join(self.output)

    def stop(self, timeout: float = 30.0) -> int:
        """Ctrl+C to the launcher (by PID), which stops the server; SIGKILL to both if that hangs."""
        server = None
        if self.proc.poll() is None:
            try:
                server = self.server_pid()
            except (AssertionError, ImportError, OSError):
                server = None
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if server is not None and not wait_gone(server, timeout=5):
            os.kill(server, signal.SIGKILL)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> CourseServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether process `pid` has exited within `timeout` (zombies count as gone)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False
