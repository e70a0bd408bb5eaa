"""Serve notebooks so that JupyterLab opens them unmodified.

When a kernel connects, JupyterLab writes the kernel's `kernelspec` and `language_info` (Python's
version included) into the notebook's metadata, and any difference marks the notebook as modified.
A committed lesson cannot carry every learner's Python version, so this contents manager fills in,
as it serves a notebook, exactly what this machine's kernel will write; the file on disk is untouched
until the learner saves. `mesalib lab` passes it to the server with
`--ServerApp.contents_manager_class=mesalib.teaching.lab_contents.CourseContentsManager`.
"""

from __future__ import annotations

import functools
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

PYTHON_KERNEL = "python3"
"""The kernel the course's notebooks name: ipykernel in the server's own Python."""


@functools.cache
def python_language_info() -> dict[str, Any]:
    """What ipykernel reports for this Python (the server's, which runs the `python3` kernel)."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


def with_kernel_metadata(metadata: dict, spec: dict[str, str], language_info: dict[str, Any]) -> None:
    """Set `kernelspec` and `language_info` as JupyterLab will, for notebooks naming the Python kernel.

    >>> meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    >>> spec = {"display_name": "Python 3 (ipykernel)", "language": "python"}
    >>> with_kernel_metadata(meta, spec, {"name": "python"})
    >>> meta["kernelspec"]["display_name"], meta["language_info"]
    ('Python 3 (ipykernel)', {'name': 'python'})
    >>> other = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}
    >>> with_kernel_metadata(other, {"display_name": "x", "language": "python"}, {"name": "python"})
    >>> other
    {'kernelspec': {'name': 'ir', 'display_name': 'R', 'language': 'R'}}
    """
    if (metadata.get("kernelspec") or {}).get("name") != PYTHON_KERNEL:
        return
    metadata["kernelspec"] = {
        "name": PYTHON_KERNEL,
        "display_name": spec["display_name"],
        "language": spec["language"],
    }
    metadata["language_info"] = dict(language_info)


class CourseContentsManager(AsyncLargeFileManager):
    """JupyterLab's default contents manager, serving notebooks with this machine's kernel metadata."""

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        model = await super().get(path, content=content, type=type, format=format, require_hash=require_hash)
        if model.get("type") == "notebook" and model.get("content") is not None:
            spec = self._python_kernel_spec()
            if spec is not None:
                with_kernel_metadata(model["content"]["metadata"], spec, python_language_info())
        return model

    def mark_trusted_cells(self, nb, path=""):
        """As the base class, without its "Notebook ... is not trusted" warning for a notebook with no
        outputs (a lesson as committed): there is nothing in it to trust, and learners read it as an error."""
        if any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
            super().mark_trusted_cells(nb, path)
        else:
            self.notary.mark_cells(nb, True)

    def _python_kernel_spec(self) -> dict[str, str] | None:
        """The display name and language the server's kernel specs give the Python kernel, if it has one."""
        specs = getattr(self.parent, "kernel_spec_manager", None)
        try:
            spec = specs.get_kernel_spec(PYTHON_KERNEL) if specs is not None else None
        except Exception:  # no such kernel here: leave the notebook as it is
            return None
        return None if spec is None else {"display_name": spec.display_name, "language": spec.language}
