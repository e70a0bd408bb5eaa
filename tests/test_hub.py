"""A real JupyterHub runs the course for a class: course/jupyterhub_config.py, five learners at once.

The hub (JupyterHub from PyPI, configurable-http-proxy from npm) loads the course's own configuration
and replaces only what a test machine needs: addresses on 127.0.0.1 with free ports (the public proxy,
its API and the hub's internal port, 8081 by default), DummyAuthenticator admitting exactly the test
learners (JupyterHub 5 and later admit nobody otherwise), SimpleLocalProcessSpawner (homes in a
temporary folder instead of Unix accounts) and an admin service token for the REST API.

Each learner logs in through the hub's login form, gets a server, and runs lesson 00 the way
JupyterLab does: a session (a kernel started in the notebook's folder) through the server's REST API,
then every code cell sent to that kernel over its websocket. This was chosen over running `jupyter
nbconvert` in a server terminal because it needs no terminal output parsing, reports each cell's
error by itself, and measures what learners really use: the kernel is a child of their server.
Peak memory is the RSS of each server's process tree (server + kernel), sampled while the lessons
run; the wall time of five learners at once is compared with one learner alone. `pytest -s` prints
the figures that course/jupyterhub.md quotes.

The hub is stopped by its PID (it stops its proxy and the servers); anything still alive afterwards
is killed by PID, also when the test fails.

Two quicker tests go with it: the configuration's start command alone (lessons copied once, edits
kept, ~/shared linked, the server started), and the Kubernetes values file, which cannot run here,
against the chart's documented keys and the tested configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "course" / "jupyterhub_config.py"
VALUES = ROOT / "course" / "z2jh-values.yaml"
LESSON = "00_welcome.ipynb"
LEARNERS = [f"learner{i}" for i in range(1, 6)]
COURSE_FOLDER = "mesalib-course"
PROXY_ENV = "MESALIB_CHP"
"""The configurable-http-proxy executable, if it is neither on PATH nor in the environment's node/."""
CELL_TIMEOUT = 120
"""Seconds one cell may take with five learners on a loaded 2-core machine (lesson 00's take < 5 s)."""

requests = pytest.importorskip("requests")
psutil = pytest.importorskip("psutil")
websocket = pytest.importorskip("websocket")


def _missing(what: str) -> None:
    """Skip where the hub's software is not installed; fail instead under CI=true (CI installs it)."""
    message = f"{what} (see course/jupyterhub.md, 'Testing the set-up')"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def jupyterhub_module():
    """The installed jupyterhub package (skip, or fail under CI=true, without it)."""
    try:
        import jupyterhub
    except ImportError:
        _missing("JupyterHub is not installed: .venv/bin/pip install jupyterhub==6.1.1")
        raise
    return jupyterhub


def proxy_command() -> str:
    """configurable-http-proxy: $MESALIB_CHP, else on PATH, else `npm install --prefix <env>/node`."""
    candidates = [os.environ.get(PROXY_ENV, ""), shutil.which("configurable-http-proxy") or ""]
    candidates.append(str(Path(sys.prefix) / "node" / "node_modules" / ".bin" / "configurable-http-proxy"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    _missing(
        "configurable-http-proxy is not installed: npm install --prefix .venv/node configurable-http-proxy"
    )
    raise AssertionError("unreachable")


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on at 127.0.0.1 (the OS picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Hub:
    """A running hub: its process, addresses, admin token and folders."""

    process: subprocess.Popen
    url: str
    token: str
    home: Path
    shared: Path
    log: Path

    def api(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else "(no log)"

    def server_pid(self, name: str) -> int:
        """The learner's single-user server: the hub's child started for them."""
        for child in psutil.Process(self.process.pid).children():
            try:
                if child.environ().get("JUPYTERHUB_USER") == name:
                    return child.pid
            except psutil.Error:
                continue
        raise AssertionError(f"no server process for {name}\n{self.log_tail()}")


TEST_CONFIG = """\
# The course's configuration, with what a test machine needs instead of real users and ports.
c = get_config()  # noqa: F821
load_subconfig({config!r})  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{public}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {folder!r} + "/proxy.pid"
c.JupyterHub.pid_file = {folder!r} + "/hub.pid"
c.JupyterHub.db_url = "sqlite:///" + {folder!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {folder!r} + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {learners!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {home!r} + "/{{username}}"
c.Spawner.ip = "127.0.0.1"
c.Spawner.args = c.Spawner.args + {extra_args!r}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["course-test"]}}]
"""


def _kill_tree(pids: list[int]) -> None:
    """Kill, by PID, whatever of these processes is still alive."""
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    jupyterhub_module()
    proxy = proxy_command()
    folder = tmp_path_factory.mktemp("hub")
    home, shared = folder / "home", folder / "shared"
    home.mkdir()
    (shared / "class").mkdir(parents=True)
    (shared / "handout.md").write_text("# Today\nRead lesson 00.\n")
    public, hub_port, proxy_api = free_ports(3)
    token = uuid.uuid4().hex
    config = folder / "test_config.py"
    config.write_text(
        TEST_CONFIG.format(
            config=str(CONFIG),
            public=public,
            hub=hub_port,
            proxy_api=proxy_api,
            proxy=proxy,
            folder=str(folder),
            learners=set(LEARNERS),
            home=str(home),
            extra_args=["--allow-root"] if os.geteuid() == 0 else [],
            token=token,
        )
    )
    log = folder / "hub.log"
    env = {**os.environ, "MESALIB_HUB_SHARED": str(shared)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    running = Hub(process, f"http://127.0.0.1:{public}", token, home, shared, log)
    descendants: list[int] = []
    try:
        started = time.perf_counter()
        while True:
            assert process.poll() is None, f"the hub exited\n{running.log_tail()}"
            try:
                if running.api("GET", "/").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.perf_counter() - started < 60, f"the hub did not answer in 60 s\n{running.log_tail()}"
            time.sleep(0.3)
        print(f"\nhub: answered after {time.perf_counter() - started:.1f} s")
        yield running
    finally:
        try:
            descendants = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
        except psutil.Error:
            pass
        process.send_signal(signal.SIGTERM)  # the hub stops the servers and its proxy
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        deadline = time.time() + 10
        while any(psutil.pid_exists(p) for p in descendants) and time.time() < deadline:
            time.sleep(0.2)
        left = [p for p in descendants if psutil.pid_exists(p)]
        _kill_tree(left)
        assert not left, f"the hub left processes behind: {left}"


def log_in(hub: Hub, name: str):
    """The login form as a browser fills it (with its XSRF cookie); the answer, not followed."""
    browser = requests.Session()
    form = browser.get(f"{hub.url}/hub/login", timeout=30)
    assert form.status_code == 200, form.text[:500]
    data = {"username": name, "password": "any", "_xsrf": browser.cookies.get("_xsrf", "")}
    return browser.post(f"{hub.url}/hub/login", data=data, allow_redirects=False, timeout=30)


def start_servers(hub: Hub, names: list[str], timeout: float = 150) -> float:
    """Start the learners' servers at once; seconds until all are ready."""
    started = time.perf_counter()
    for name in names:
        answer = hub.api("POST", f"/users/{name}/server")
        assert answer.status_code in (201, 202), f"{name}: {answer.status_code} {answer.text}"
    waiting = set(names)
    while waiting:
        for name in sorted(waiting):
            server = hub.api("GET", f"/users/{name}").json()["servers"].get("", {})
            if server.get("ready"):
                waiting.discard(name)
        assert time.perf_counter() - started < timeout, f"not ready: {waiting}\n{hub.log_tail()}"
        time.sleep(0.5)
    return time.perf_counter() - started


@dataclass
class Learner:
    """One learner's server, reached with their own API token through the hub's proxy."""

    hub: Hub
    name: str
    token: str

    def api(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"token {self.token}"}
        url = f"{self.hub.url}/user/{self.name}/api{path}"
        return requests.request(method, url, headers=headers, timeout=60, **kwargs)


@dataclass
class Run:
    """One lesson run: the cells that failed (with the error) and the seconds it took."""

    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    finished: float = 0.0
    stdout: str = ""


def execute(ws, code: str, timeout: float = CELL_TIMEOUT) -> tuple[str | None, str]:
    """Run `code` in the kernel behind the websocket `ws`: (the error or None, what it printed)."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    # The reply (shell channel) and the output (iopub) arrive in either order: done when the reply has
    # come and the kernel has gone idle after this request.
    error, printed, replied, idle, deadline = None, [], False, False, time.time() + timeout
    while not (replied and idle):
        ws.settimeout(max(deadline - time.time(), 0.1))
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "error":
            error = f"{content['ename']}: {content['evalue']}"
        elif kind == "stream" and content.get("name") == "stdout":
            printed.append(content["text"])
        elif kind == "status":
            idle = content["execution_state"] == "idle"
        elif kind == "execute_reply":
            replied = True
            if content["status"] != "ok" and error is None:
                error = f"{content.get('ename')}: {content.get('evalue')}"
    return error, "".join(printed)


PROBE = "import os; print(*(os.environ.get(k) for k in ('MESALIB_THREADS', 'OMP_NUM_THREADS', 'MEM_LIMIT')))"
"""What the course's configuration promised every kernel: one thread (torch and BLAS read these when
they start) and the memory limit named. It imports nothing, so the memory measured is the lesson's."""


def run_lesson(learner: Learner, path: str = f"{COURSE_FOLDER}/{LESSON}") -> Run:
    """Open the lesson as JupyterLab does (a session, a fresh kernel in its folder) and run every cell.

    The seconds are a learner's: from opening the notebook (the kernel's start included) to the end of
    its last cell."""
    run, started = Run(), time.perf_counter()
    notebook = learner.api("GET", f"/contents/{path}").json()["content"]
    answer = learner.api(
        "POST",
        "/sessions",
        json={"path": path, "type": "notebook", "name": "", "kernel": {"name": "python3"}},
    )
    assert answer.status_code == 201, answer.text
    session = answer.json()
    address = learner.hub.url.replace("http://", "ws://")
    address += (
        f"/user/{learner.name}/api/kernels/{session['kernel']['id']}/channels?session_id={uuid.uuid4().hex}"
    )
    ws = websocket.create_connection(address, header=[f"Authorization: token {learner.token}"], timeout=60)
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                error, _ = execute(ws, "".join(cell["source"]))
                if error:
                    run.errors.append(f"cell {cell.get('id')}: {error}")
        run.finished = time.perf_counter()
        run.seconds = run.finished - started
        error, run.stdout = execute(ws, PROBE)
        if error:
            run.errors.append(f"probe: {error}")
    finally:
        ws.close()
        learner.api("DELETE", f"/sessions/{session['id']}")  # shuts the kernel down
    return run


def tree_rss(pid: int) -> int:
    """Bytes resident in a process and its descendants (shared pages counted in each: an upper bound)."""
    try:
        top = psutil.Process(pid)
        processes = [top, *top.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class PeakMemory:
    """Samples each server's process tree five times a second; keeps the peak per learner."""

    def __init__(self, pids: dict[str, int]):
        self.pids, self.peak = pids, dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], tree_rss(pid))
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_together(learners: list[Learner]) -> tuple[dict[str, Run], float]:
    """Every learner runs the lesson at the same moment; their runs and the seconds until the last
    learner's last cell finished."""
    runs: dict[str, Run] = {}
    failures: dict[str, BaseException] = {}

    def one(learner: Learner) -> None:
        try:
            runs[learner.name] = run_lesson(learner)
        except BaseException as exc:  # reported below, with the learner's name
            failures[learner.name] = exc

    threads = [threading.Thread(target=one, args=(learner,)) for learner in learners]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, {name: repr(exc) for name, exc in failures.items()}
    return runs, max(run.finished for run in runs.values()) - started


MIB = 2**20


def load_course_config():
    """course/jupyterhub_config.py as JupyterHub reads it (traitlets), without starting anything."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()


@pytest.mark.slow
def test_the_start_command_copies_the_lessons_once_links_the_shared_folder_and_starts_the_server(
    tmp_path, monkeypatch
):
    jupyterhub = jupyterhub_module()
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("MESALIB_HUB_SHARED", str(shared))
    config = load_course_config()
    assert config.Spawner.environment["MESALIB_THREADS"] == "1"
    home = tmp_path / "home"
    home.mkdir()
    start = [*config.Spawner.cmd, "--version"]  # the hub appends the server's arguments like this one
    environment = {**os.environ, "HOME": str(home)}

    first = subprocess.run(start, env=environment, capture_output=True, text=True, timeout=120)
    assert first.stdout.strip() == jupyterhub.__version__, first.stderr  # the server itself started
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (home / COURSE_FOLDER).iterdir()) == lessons
    assert (home / "shared").resolve() == shared.resolve()

    edited = home / COURSE_FOLDER / LESSON  # a learner's work survives the next start
    edited.write_text(edited.read_text().replace("Chests and Keys", "my notes"))
    again = subprocess.run(start, env=environment, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "my notes" in edited.read_text()


@pytest.mark.slow
def test_five_learners_log_in_get_the_course_and_run_a_lesson_at_once(hub):
    # Log in: the allowed learners get in, anyone else is refused.
    for name in LEARNERS:
        answer = log_in(hub, name)
        assert answer.status_code == 302, f"{name}: {answer.status_code}\n{hub.log_tail()}"
    assert log_in(hub, "intruder").status_code == 403

    spawn_seconds = start_servers(hub, LEARNERS)
    learners = []
    for name in LEARNERS:
        answer = hub.api("POST", f"/users/{name}/tokens", json={"note": "test", "expires_in": 900})
        assert answer.status_code == 201, answer.text
        learners.append(Learner(hub, name, answer.json()["token"]))
    pids = {name: hub.server_pid(name) for name in LEARNERS}
    idle = {name: tree_rss(pid) for name, pid in pids.items()}

    # The start command copied every lesson into each home and linked the instructor's folder.
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    for learner in learners:
        listing = learner.api("GET", f"/contents/{COURSE_FOLDER}").json()
        assert sorted(item["name"] for item in listing["content"]) == lessons, learner.name
        shared = learner.api("GET", "/contents/shared").json()
        assert {item["name"] for item in shared["content"]} == {"class", "handout.md"}, learner.name

    alone = run_lesson(learners[0])
    assert alone.errors == [], alone.errors
    with PeakMemory(pids) as memory:
        runs, together = run_together(learners)
    print(f"servers: {len(LEARNERS)} started at once, all ready after {spawn_seconds:.1f} s")
    for name in LEARNERS:
        print(
            f"{name} (server PID {pids[name]}): idle server {idle[name] / MIB:.0f} MiB, peak while "
            f"running {LESSON} {memory.peak[name] / MIB:.0f} MiB, lesson {runs[name].seconds:.1f} s"
        )
    print(
        f"peak per learner: max {max(memory.peak.values()) / MIB:.0f} MiB; "
        f"{LESSON}: one learner alone {alone.seconds:.1f} s, {len(LEARNERS)} at once {together:.1f} s "
        f"(ratio {together / alone.seconds:.2f}) on {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name, run in runs.items():
        assert run.errors == [], (name, run.errors)
        threads, omp_threads, mem_limit = run.stdout.split()
        assert (threads, omp_threads) == ("1", "1"), (name, run.stdout)
        assert mem_limit == str(2 * 2**30), (name, run.stdout)  # the configuration's "2G"

    assert all(peak > 0 for peak in memory.peak.values()), memory.peak


Z2JH_KEYS = {
    "hub.config",
    "singleuser.image.name",
    "singleuser.image.tag",
    "singleuser.defaultUrl",
    "singleuser.startTimeout",
    "singleuser.extraEnv",
    "singleuser.memory.guarantee",
    "singleuser.memory.limit",
    "singleuser.cpu.guarantee",
    "singleuser.cpu.limit",
    "singleuser.lifecycleHooks.postStart",
    "singleuser.storage.extraVolumes",
    "singleuser.storage.extraVolumeMounts",
    "singleuser.extraFiles.*.mountPath",
    "singleuser.extraFiles.*.data",
    "cull.enabled",
    "cull.timeout",
    "cull.every",
}
"""The Zero to JupyterHub values the file may set, as the chart's values schema documents them
(jupyterhub/values.schema.yaml in jupyterhub/zero-to-jupyterhub-k8s): below these the content is the
chart's free-form passthrough (traitlets config, environment, Kubernetes objects, a file's content)."""


def value_paths(values, prefix=""):
    """The dotted key paths of `values` down to the documented keys (`*`: a name of one's choosing)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        wildcard = f"{prefix}*"
        if path in Z2JH_KEYS or not isinstance(value, dict):
            yield path
        elif any(k.startswith(f"{wildcard}.") for k in Z2JH_KEYS):
            yield from value_paths(value, f"{wildcard}.")
        else:
            yield from value_paths(value, f"{path}.")


def test_the_kubernetes_values_use_documented_keys_and_the_same_limits_as_the_hub_config():
    """Z2JH cannot run here: the values file is checked as YAML against the chart's documented keys and
    against the tested jupyterhub_config.py, so the two set-ups cannot drift apart."""
    yaml = pytest.importorskip("yaml")
    values = yaml.safe_load(VALUES.read_text())
    assert sorted(set(value_paths(values)) - Z2JH_KEYS) == []
    user = values["singleuser"]
    config = load_course_config()
    assert user["extraEnv"] == config.Spawner.environment
    assert user["memory"]["limit"] == config.Spawner.mem_limit
    assert user["cpu"]["limit"] == config.Spawner.cpu_limit
    assert user["defaultUrl"] == config.Spawner.default_url
    hook = " ".join(user["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert f'mesalib course "$HOME/{COURSE_FOLDER}" --no-lab' in hook
    assert f'mesalib" course "$HOME/{COURSE_FOLDER}" --no-lab' in config.Spawner.cmd[2]
    culling = user["extraFiles"]["kernel-culling"]["data"]["MappingKernelManager"]
    assert [f"--MappingKernelManager.{k}={v}" for k, v in culling.items()] == config.Spawner.args


def test_the_values_check_rejects_an_undocumented_key():
    assert list(value_paths({"singleuser": {"memory": {"limits": "2G"}}})) == ["singleuser.memory.limits"]
    assert list(value_paths({"singleuser": {"extraFiles": {"x": {"mountPath": "/a"}}}})) == [
        "singleuser.extraFiles.*.mountPath"
    ]
