"""`python -m gizmo_client.cli`: the `gizmo` command without its console script."""

import sys

from . import main

sys.exit(main())
