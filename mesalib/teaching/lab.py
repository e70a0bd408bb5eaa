"""Start JupyterLab for the course: the file browser at the course's root, one notebook open.

Learners run it on a laptop, as root in Docker, or over SSH on a machine with no screen, so it never
relies on a browser opening: once the server answers it prints the one address that opens the first
lesson, token included. The file browser starts at the course root (lessons/, solutions/ and course/
are all reachable). The server's PATH starts with this environment's `bin`, so JupyterLab terminals
and `!mesalib ...` in a cell find the course's command. Notebooks open unmodified (`lab_contents`),
and JupyterLab asks nothing about Jupyter news: both set for this server only, through its command
line and a settings folder that lives as long as the server; the learner's Jupyter configuration is
never written.
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from pathlib import Path

DEFAULT_NOTEBOOK = "lessons/00_welcome.ipynb"
DEFAULT_PORT = 8888
PORTS_TRIED = 50
"""From the asked-for port upwards, how many to try before giving up (JupyterLab's own default)."""
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
"""Settings defaults for this server: no "get notified about Jupyter news?" prompt, no update check."""
CONTENTS_MANAGER = "mesalib.teaching.lab_contents.CourseContentsManager"


class LabArgumentError(ValueError):
    """An argument of `mesalib lab` that cannot work; the message names the option and what is allowed."""


def check_arguments(root: str | Path, notebook: str, port: int, ip: str) -> tuple[Path, str]:
    """The course root (absolute) and the notebook's path inside it, before any work starts.

    >>> check_arguments(".", "nowhere.ipynb", 8888, "127.0.0.1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mesalib.teaching.lab.LabArgumentError: NOTEBOOK nowhere.ipynb: no such file in the course root ...
    """
    check_address(port, ip)
    base = Path(root).expanduser().resolve()
    if not base.is_dir():
        raise LabArgumentError(f"--root {root}: no such folder; give the folder holding lessons/.")
    path = (base / notebook).resolve()
    if not path.is_relative_to(base):
        raise LabArgumentError(
            f"NOTEBOOK {notebook}: outside the course root {base}; name a notebook inside it."
        )
    if not path.is_file():
        raise LabArgumentError(
            f"NOTEBOOK {notebook}: no such file in the course root {base}; "
            f"name a notebook relative to it, like {DEFAULT_NOTEBOOK}."
        )
    if path.suffix != ".ipynb":
        raise LabArgumentError(f"NOTEBOOK {notebook}: not a notebook; name an .ipynb file.")
    return base, path.relative_to(base).as_posix()


def check_address(port: int, ip: str) -> None:
    """LabArgumentError unless `port` is a port number and `ip` an IP address.

    >>> check_address(0, "127.0.0.1")
    Traceback (most recent call last):
    ...
    mesalib.teaching.lab.LabArgumentError: --port 0: not a port number; use a whole number from 1 to 65535.
    """
    if not 1 <= port <= 65535:
        raise LabArgumentError(f"--port {port}: not a port number; use a whole number from 1 to 65535.")
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise LabArgumentError(
            f"--ip {ip}: not an IP address; use 127.0.0.1 (this machine only, the default) "
            "or 0.0.0.0 (every network interface, for example inside Docker)."
        ) from None


def require_jupyterlab(alternative: str = "") -> None:
    """LabArgumentError, saying how to install it (and `alternative`, if given), without JupyterLab."""
    if importlib.util.find_spec("jupyterlab") is None:
        raise LabArgumentError(
            "JupyterLab is not installed in this environment; install it with "
            "`pip install 'mesalib[lab]'` (make course does this)"
            + (f", {alternative}" if alternative else "")
            + "."
        )


def lab_command(python: str, root: Path, ip: str, port: int, settings_dir: Path, euid: int) -> list[str]:
    """The JupyterLab server's command line (the token travels in the environment, not here)."""
    command = [
        python,
        "-m",
        "jupyterlab",
        "--no-browser",  # `run_lab` prints the address, and opens a browser only where there is a screen
        f"--ip={ip}",
        f"--port={port}",
        "--port-retries=0",  # the printed address must be the one the server has
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
        f"--LabApp.app_settings_dir={settings_dir}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.log_level=WARN",
        "--LabApp.log_level=WARN",  # the address run_lab prints is what a learner needs, not the start-up log
    ]
    if euid == 0:  # root in Docker or on a cloud machine: JupyterLab refuses to start without it
        command.append("--allow-root")
    return command


def lab_environment(base: dict[str, str], bin_dir: Path, token: str) -> dict[str, str]:
    """The server's environment: this environment's bin first on PATH, the token in JUPYTER_TOKEN."""
    env = dict(base)
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != str(bin_dir)]
    env["PATH"] = os.pathsep.join([str(bin_dir), *rest])
    env["JUPYTER_TOKEN"] = token
    return env


def server_address(ip: str, port: int) -> str:
    """The server's address as this machine reaches it (loopback when it listens everywhere).

    >>> server_address("0.0.0.0", 8888), server_address("::1", 8888)
    ('http://127.0.0.1:8888', 'http://[::1]:8888')
    """
    address = ipaddress.ip_address(ip)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{host}:{port}"


def notebook_url(ip: str, port: int, notebook: str, token: str) -> str:
    """The address that opens `notebook` (a path inside the root) in JupyterLab, token included.

    >>> notebook_url("127.0.0.1", 8888, "lessons/00_welcome.ipynb", "abc")
    'http://127.0.0.1:8888/lab/tree/lessons/00_welcome.ipynb?token=abc'
    """
    return f"{server_address(ip, port)}/lab/tree/{urllib.parse.quote(notebook)}?token={token}"


def free_port(ip: str, first: int, tries: int = PORTS_TRIED) -> int:
    """The first port from `first` on that nothing listens on at `ip`."""
    family = socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET
    for port in range(first, min(first + tries, 65536)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((ip, port))
            except PermissionError:
                raise LabArgumentError(
                    f"--port {port}: this user may not listen there (ports below 1024 need root); "
                    "use a port from 1024 to 65535, like the default 8888."
                ) from None
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise LabArgumentError(
                        f"--ip {ip}: not an address of this machine; use 127.0.0.1 (the default) or 0.0.0.0."
                    ) from None
                continue  # in use: try the next port
            return port
    raise LabArgumentError(
        f"--port {first}: it and the {tries - 1} ports after it are in use; choose another with --port."
    )


def write_settings(settings_dir: Path, defaults: Path) -> None:
    """JupyterLab's app settings for this server: the environment's own (`defaults`), plus NO_NEWS."""
    if defaults.is_dir():
        shutil.copytree(defaults, settings_dir, dirs_exist_ok=True)
    overrides_path = settings_dir / "overrides.json"
    overrides = json.loads(overrides_path.read_text()) if overrides_path.exists() else {}
    for plugin, values in NO_NEWS.items():
        overrides.setdefault(plugin, {}).update(values)
    overrides_path.write_text(json.dumps(overrides, indent=2))


def has_screen() -> bool:
    """Whether a browser opened here would show up: a desktop session, not SSH, Docker or root."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return False
    if sys.platform == "darwin":
        return "SSH_CONNECTION" not in os.environ
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_lab(
    root: str | Path = ".",
    notebook: str = DEFAULT_NOTEBOOK,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    open_browser: bool = True,
) -> int:
    """Run JupyterLab for the course until Ctrl+C; returns the exit status for the command line."""
    base, inside = check_arguments(root, notebook, port, ip)
    require_jupyterlab()
    port = free_port(ip, port)
    _stop_on_signals()
    token = secrets.token_hex(24)
    python = sys.executable  # not resolved: a venv's python is a link, and its bin is what PATH needs
    with tempfile.TemporaryDirectory(prefix="mesalib-lab-") as settings:
        write_settings(Path(settings), Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings")
        euid = os.geteuid() if hasattr(os, "geteuid") else 1
        server = subprocess.Popen(
            lab_command(python, base, ip, port, Path(settings), euid),
            cwd=base,
            env=lab_environment(dict(os.environ), Path(python).parent, token),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C reaches this process only; it stops the server cleanly
        )
        try:
            if not _wait_until_ready(server, ip, port, token):
                print(
                    f"error: JupyterLab stopped before it answered (exit status {server.returncode}); "
                    "its messages are above.",
                    file=sys.stderr,
                )
                return 1
            url = notebook_url(ip, port, inside, token)
            print(
                f"\nThe course is open in JupyterLab at {base}.\n"
                "Open this address in a browser on this machine (over SSH, forward the port first:\n"
                f"ssh -L {port}:localhost:{port} ...):\n\n    {url}\n\nStop JupyterLab with Ctrl+C.",
                flush=True,
            )
            if open_browser and has_screen():
                webbrowser.open(url)
            return server.wait()
        except KeyboardInterrupt:
            print("\nStopping JupyterLab ...", flush=True)
            return 0
        finally:
            _stop(server)


def _stop_on_signals() -> None:
    """Ctrl+C, a closed terminal or a SIGTERM stop the server too (it runs in its own session)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where a shell started us ignoring it

    def leave(signum, frame):
        raise SystemExit(128 + signum)  # runs run_lab's `finally`, which stops the server

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), leave)


def _wait_until_ready(server: subprocess.Popen, ip: str, port: int, token: str, timeout: float = 120) -> bool:
    """Poll the server's status API until it answers or `timeout` passes; False if the server exited."""
    url = f"{server_address(ip, port)}/api/status?token={token}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with direct.open(url, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    return server.poll() is None


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM by PID (the server shuts its kernels down), then SIGKILL if it hangs."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
