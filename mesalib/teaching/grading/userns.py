"""The sandbox's user namespace, when the grader runs as root: the learner's code runs as the host's
unprivileged uid 65534, never as root.

bwrap started by root with `--unshare-user --uid 65534` maps the sandbox's uid to the caller's,
root: files would be accessed as root's, and Linux does not apply the process limit (RLIMIT_NPROC)
to root, so a fork bomb would not stop. Instead the grader makes, per learner, a user namespace of
its own whose map holds two ids: 65534 as itself (the sandbox's uid) and 0 as itself (so that bwrap,
still root while it builds the sandbox, can bind the Python installation under a private /root).
bwrap joins it (`--userns FD`) and switches to 65534 before running anything; the learner's code has
no capabilities and no way back (`PR_SET_NO_NEW_PRIVS` in the runner, nosuid binds). A namespace
per learner keeps the process limit per learner.

The namespace is held by a helper (`unshare --user cat`) that ends when its stdin closes: when the
sandbox is done, or when the grader dies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

__all__ = ["UserNamespace", "needed"]

MAP = "0 0 1\n65534 65534 1\n"


def needed() -> bool:
    """Whether the grader runs as root (then a namespace of its own is what keeps the sandbox
    unprivileged); an ordinary user's bwrap maps the sandbox to that user already."""
    return os.geteuid() == 0


class UserNamespace:
    """`with UserNamespace() as fd:` an open descriptor of a fresh user namespace with `MAP`."""

    def __init__(self) -> None:
        self._helper: subprocess.Popen | None = None
        self._fd = -1

    def __enter__(self) -> int:
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        self._helper = subprocess.Popen(
            [unshare, "--user", "--", "cat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._fd = _map(self._helper.pid)
        except BaseException:
            self.__exit__()
            raise
        return self._fd

    def __exit__(self, *exc) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        helper, self._helper = self._helper, None
        if helper is not None:
            if helper.stdin is not None:
                helper.stdin.close()
            try:
                helper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()


def _map(pid: int) -> int:
    """Wait for the helper to be in its new namespace, write the maps, open the namespace."""
    mine = os.readlink("/proc/self/ns/user")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{pid}/ns/user") == mine:
        if time.monotonic() > deadline:
            raise OSError("the user namespace helper did not start")
        time.sleep(0.001)
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(MAP)
    return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
