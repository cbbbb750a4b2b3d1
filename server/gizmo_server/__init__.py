"""A local, Gizmo-compatible server: the Gizmo Scenes API over real HTTP, offline.

It is a stand-in for the hosted service (like moto or stripe-mock), not the real Gizmo: the
"generation" behind it is a parametric model builder, not an AI. Embed it with
`gizmo_server.embedded.LocalServer` or run the `gizmo-server` command.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
