"""`mesalib lab` (what `make course` runs): JupyterLab for the course, as root or not, headless.

The command line and environment it builds, its argument errors (named option, value, what is
allowed, and no server started), and one real server started through the launcher on a copy of the
course: the address it prints opens lesson 00, the file browser sees the course root, the news prompt
is off, notebooks are served with this machine's kernel metadata, the server's PATH finds `mesalib`,
and Ctrl+C (SIGINT by PID) stops the server too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from mesalib.teaching import cli, lab
from mesalib.teaching.lab_contents import PYTHON_KERNEL, python_language_info

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from course_server import CourseServer, copy_course, wait_gone

LESSON = "lessons/00_welcome.ipynb"


def _command(euid: int) -> list[str]:
    return lab.lab_command("/venv/bin/python", Path("/course"), "127.0.0.1", 8890, Path("/tmp/s"), euid)


def test_the_command_adds_allow_root_only_for_root():
    assert "--allow-root" in _command(euid=0)
    assert "--allow-root" not in _command(euid=1000)


def test_the_command_roots_the_server_at_the_course_with_its_own_settings_and_no_token_in_argv():
    command = _command(euid=1000)
    assert command[:3] == ["/venv/bin/python", "-m", "jupyterlab"]
    for option in (
        "--no-browser",
        "--ip=127.0.0.1",
        "--port=8890",
        "--port-retries=0",
        "--ServerApp.root_dir=/course",
        "--LabApp.app_settings_dir=/tmp/s",
        f"--ServerApp.contents_manager_class={lab.CONTENTS_MANAGER}",
    ):
        assert option in command
    assert not any("token" in part.lower() for part in command)  # `ps` would show it to everyone


def test_the_environment_puts_the_venv_bin_first_and_the_token_in_jupyter_token():
    env = lab.lab_environment({"PATH": "/usr/bin:/venv/bin:/bin", "HOME": "/h"}, Path("/venv/bin"), "t0k")
    assert env["PATH"] == "/venv/bin:/usr/bin:/bin"
    assert env["JUPYTER_TOKEN"] == "t0k" and env["HOME"] == "/h"


def test_the_url_opens_the_notebook_with_its_token():
    url = lab.notebook_url("127.0.0.1", 8890, "lessons/00 welcome.ipynb", "abc")
    assert url == "http://127.0.0.1:8890/lab/tree/lessons/00%20welcome.ipynb?token=abc"
    assert lab.notebook_url("0.0.0.0", 8890, LESSON, "abc").startswith("http://127.0.0.1:8890/")


def test_settings_turn_the_news_prompt_off_and_keep_the_environments_own(tmp_path):
    defaults = tmp_path / "defaults"
    defaults.mkdir()
    (defaults / "overrides.json").write_text(json.dumps({"@x/y:z": {"a": 1}}))
    (defaults / "page_config.json").write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    lab.write_settings(out, defaults)
    overrides = json.loads((out / "overrides.json").read_text())
    assert overrides["@x/y:z"] == {"a": 1}
    assert overrides["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
    assert (out / "page_config.json").exists()


def test_a_busy_port_moves_to_the_next_free_one():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert lab.free_port("127.0.0.1", taken) > taken


@pytest.fixture
def course(tmp_path):
    return copy_course(tmp_path / "course")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--port", "0"], "--port 0: not a port number; use a whole number from 1 to 65535"),
        (["--port", "70000"], "--port 70000: not a port number; use a whole number from 1 to 65535"),
        (["--ip", "localhost:80"], "--ip localhost:80: not an IP address; use 127.0.0.1"),
        (["--ip", "192.0.2.1"], "--ip 192.0.2.1: not an address of this machine"),
        (["--root", "{tmp}/missing"], "--root {tmp}/missing: no such folder"),
        (["lessons/99_none.ipynb"], "NOTEBOOK lessons/99_none.ipynb: no such file in the course root"),
        (["../outside.ipynb"], "NOTEBOOK ../outside.ipynb: outside the course root"),
        (["course/README.md"], "NOTEBOOK course/README.md: not a notebook; name an .ipynb file"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(
    args, expected, course, tmp_path, capsys, monkeypatch
):
    (tmp_path / "outside.ipynb").write_text("{}")

    def no_server(*a, **k):
        raise AssertionError("a server was started despite a bad argument")

    monkeypatch.setattr(lab.subprocess, "Popen", no_server)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--root" not in args:
        args += ["--root", str(course)]
    assert cli.main(["lab", "--no-browser", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected.replace("{tmp}", str(tmp_path)) in err


def test_argparse_names_the_option_of_a_port_that_is_not_a_number(capsys):
    with pytest.raises(SystemExit):
        cli.main(["lab", "--port", "eighty"])
    assert "argument --port: invalid int value: 'eighty'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_launcher_serves_the_course_and_stops_with_ctrl_c(course, tmp_path):
    with CourseServer(course, tmp_path / "home") as server:
        url = server.wait_for_url()
        assert url == f"http://127.0.0.1:{server.port}/lab/tree/{LESSON}?token={server.token}"
        assert len(server.token) >= 32
        status, page = server.get(f"/lab/tree/{LESSON}")
        assert status == 200 and "JupyterLab" in page

        status, notebook = server.get(f"/api/contents/{server.notebook}")
        assert status == 200 and notebook["type"] == "notebook"
        assert server.get(f"/api/contents/{server.notebook}", token="wrong")[0] == 403

        status, listing = server.get("/api/contents/")
        assert {"lessons", "solutions", "course"} <= {entry["name"] for entry in listing["content"]}

        status, news = server.get("/lab/api/settings/@jupyterlab/apputils-extension:notification")
        properties = news["schema"]["properties"]
        assert properties["fetchNews"]["default"] == "false"
        assert properties["checkForUpdates"]["default"] is False

        # Served with the metadata JupyterLab will write once the kernel connects: nothing to change.
        metadata = notebook["content"]["metadata"]
        assert metadata["language_info"] == python_language_info()
        assert metadata["kernelspec"]["name"] == PYTHON_KERNEL
        specs = server.get("/api/kernelspecs")[1]["kernelspecs"]
        assert metadata["kernelspec"]["display_name"] == specs[PYTHON_KERNEL]["spec"]["display_name"]
        on_disk = json.loads((course / LESSON).read_text())["metadata"]
        assert "version" not in on_disk.get("language_info", {})  # the file itself was not rewritten

        import psutil

        pid = server.server_pid()
        path = psutil.Process(pid).environ()["PATH"]
        assert path.split(os.pathsep)[0] == str(Path(sys.executable).parent)
        assert shutil.which("mesalib", path=path) == str(Path(sys.executable).parent / "mesalib")
        if os.geteuid() == 0:
            assert "--allow-root" in psutil.Process(pid).cmdline()

        assert server.stop() == 0
        assert wait_gone(pid), "the JupyterLab server outlived the launcher"
    assert "Stopping JupyterLab" in server.text()
    assert "Traceback" not in server.text()
