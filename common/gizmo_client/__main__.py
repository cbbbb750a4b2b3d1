"""`python -m gizmo_client`: the `gizmo` command where no console script is installed (a vendored
copy, or Isaac Sim's own Python)."""

import sys

from .cli import main

sys.exit(main())
