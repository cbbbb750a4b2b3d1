"""Gizmo Scenes, an Omniverse Kit / Isaac Sim extension: browse Gizmo scenes, load their USD
exports as the stage or as references/payloads, and keep them in sync.

Kit instantiates the `omni.ext.IExt` subclass it finds in this module, so it is imported here,
but only inside Kit: outside it (CI, plain Python) the pure modules (`controller`, `usd_ops`,
`settings`, `scheduler`, `data`) import without `omni`.
"""

from importlib.util import find_spec

if find_spec("omni") is not None:
    from .extension import GizmoScenesExtension

    __all__ = ["GizmoScenesExtension"]
