"""``python -m workflows.cli``: the ``mts`` command."""
import sys

from workflows.cli import main

sys.exit(main())
