"""Gizmo Scenes, an Omniverse Kit / Isaac Sim extension: browse Gizmo scenes, load their USD
exports as the stage or as references/payloads, and keep them in sync.

Kit instantiates the `omni.ext.IExt` subclass it finds in this module, so it is imported here,
but only inside Kit: outside it (CI, plain Python) the pure modules (`controller`, `usd_ops`,
`stage_port`, `usd_undo`, `settings`, `scheduler`, `data`) import without `omni`. The test is
for `omni.ext`, not `omni`: other packages (NVIDIA's asset validator on PyPI) install an `omni`
namespace of their own.
"""

from importlib.util import find_spec


def _in_kit() -> bool:
    try:
        return find_spec("omni.ext") is not None
    except ModuleNotFoundError:
        return False


if _in_kit():
    from .extension import GizmoScenesExtension

    __all__ = ["GizmoScenesExtension"]
