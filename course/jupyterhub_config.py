"""JupyterHub for a class taking the course on one server (The Littlest JupyterHub style).

Every learner gets their own Jupyter server from the one Python environment the hub runs in, where
the course is installed once (`pip install "mesalib[lab]" jupyterhub`). On each start the server
first runs `mesalib course ~/mesalib-course --no-lab`: the first start copies the lessons into the
learner's home; later starts add lessons that are new after an update and never overwrite one the
learner has edited. The instructor's shared folder appears in every home as `~/shared`.

Use it as it is (`jupyterhub -f jupyterhub_config.py`, run as root so that the hub can start servers
as the learners' Unix accounts), or drop it into The Littlest JupyterHub's
`/opt/tljh/config/jupyterhub_config.d/`, where it adds the course to TLJH's own set-up (TLJH installs
the course with `sudo -E /opt/tljh/user/bin/pip install "mesalib[lab]"`). course/jupyterhub.md
explains the sizing and tests/test_hub.py starts a real hub with this file (with a test
authenticator and spawner) and runs a lesson for five learners at once.

What to change for a real class is marked CHANGE below: the authenticator (this file uses the
machine's Unix accounts through PAM, JupyterHub's default), the admins, and the limits if your
lessons differ from the measured ones.
"""

# ruff: noqa: F821  (`get_config` is defined by JupyterHub when it loads this file)

import os
import sys
from pathlib import Path

c = get_config()

TLJH_USER_BIN = Path("/opt/tljh/user/bin")
TLJH = (TLJH_USER_BIN / "jupyterhub-singleuser").exists()
"""Inside The Littlest JupyterHub, which runs the hub and the learners' servers in two environments."""

BIN = TLJH_USER_BIN if TLJH else Path(sys.executable).parent
"""Where the course, JupyterLab and jupyterhub-singleuser are installed, once for everyone: TLJH's
user environment, otherwise the environment this hub runs in."""

COURSE_FOLDER = "mesalib-course"
"""Each learner's working copy of the lessons, inside their home."""

SHARED = Path(os.environ.get("MESALIB_HUB_SHARED", "/srv/mesalib-shared"))
"""The instructor's shared folder, linked into every home as ~/shared. Make it once, as root:
`install -d -m 755 /srv/mesalib-shared` for handouts only the instructor writes, then
`install -d -m 1777 /srv/mesalib-shared/class` for files the whole class shares and
`install -d -m 1733 /srv/mesalib-shared/handin` for hand-ins (the sticky bit keeps learners from
deleting each other's files; 1733 also keeps them from listing each other's hand-ins)."""

# --- Authentication. CHANGE for a real class. ------------------------------------------------------
# The default is PAM: learners log in with the Unix accounts of this machine (`adduser NAME`), and
# JupyterHub 5 and later admit only the users allowed here. For a university log-in, install and
# name its authenticator instead, for example:
#   c.JupyterHub.authenticator_class = "generic-oauth"   # pip install oauthenticator
#   c.GenericOAuthenticator.allow_all = True             # or allowed_users / allowed_groups
# On TLJH, set the authenticator with `tljh-config` rather than here.
# CHANGE: the learners' user names and the instructors (admins can see every server); on TLJH use
# `tljh-config add-item users.allowed NAME` and `users.admin` instead.
# c.Authenticator.allowed_users = {"learner1", "learner2"}
# c.Authenticator.admin_users = {"instructor"}

# --- Each learner's server. -------------------------------------------------------------------------
# The start command runs as the learner, so the copied lessons belong to them. `mesalib course` never
# overwrites an edited lesson; a failed copy is logged and the server still starts.
START = (
    f'"{BIN}/mesalib" course "$HOME/{COURSE_FOLDER}" --no-lab > /dev/null'
    ' || echo "mesalib course could not copy the lessons" >&2; '
    f'[ -e "$HOME/shared" ] || [ ! -d "{SHARED}" ] || ln -s "{SHARED}" "$HOME/shared"; '
    f'exec "{BIN}/jupyterhub-singleuser" "$@"'
)
# `sh -c START NAME ARGS...`: NAME is $0 and the hub's arguments for the server are "$@".
c.Spawner.cmd = ["sh", "-c", START, "jupyterhub-singleuser"]
c.Spawner.default_url = f"/lab/tree/{COURSE_FOLDER}/00_welcome.ipynb"
c.Spawner.args = [
    # A forgotten notebook keeps its kernel (tens of MB each) until shut down: close idle ones after an
    # hour. A busy kernel (a training cell) is never culled.
    "--MappingKernelManager.cull_idle_timeout=3600",
    "--MappingKernelManager.cull_interval=300",
]

# --- Limits, measured (course/jupyterhub.md, "Sizing"). ---------------------------------------------
# One thread per learner: torch and the BLAS libraries otherwise start a thread per core in every
# kernel, and 30 learners training at once on 8 cores would run 240 threads that slow each other down.
# Results do not depend on it beyond the last bits (mesalib/agents/nets.py).
c.Spawner.environment = {
    "MESALIB_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
# Enforced by SystemdSpawner (TLJH's spawner) and KubeSpawner; LocalProcessSpawner only passes them
# on as MEM_LIMIT and CPU_LIMIT (shown by jupyter-resource-usage), so on a plain install the thread
# limit above is what keeps the machine responsive. 2G covers the heaviest lesson with two notebooks
# open; see the measured figures in course/jupyterhub.md.
c.Spawner.mem_limit = "2G"
c.Spawner.cpu_limit = 1.0

# --- The hub (TLJH sets its own addresses and proxy). -------------------------------------------------
if not TLJH:
    c.JupyterHub.bind_url = "http://:8000"  # CHANGE: serve HTTPS (ssl_cert/ssl_key) or put a proxy in front
    c.JupyterHub.hub_port = 8081  # the hub's internal port; change it if something else uses 8081
c.Spawner.start_timeout = 120  # a busy machine can take a while to start a server
c.Spawner.http_timeout = 60

# --- Grading (run by the instructor, not by the hub). ------------------------------------------------
# Learners hand in by copying their lesson into a folder of their own in the hand-in folder:
#   install -d -m 700 ~/shared/handin/$USER && cp ~/mesalib-course/02_heuristics.ipynb ~/shared/handin/$USER/
# and the instructor grades the class with the course's sandboxed grader (course/jupyterhub.md):
#   mesalib grade /srv/mesalib-shared/handin --lesson 02 --seed SECRET --out grades/02
