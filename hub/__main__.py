"""`python -m hub` runs the hearth command."""

import sys

from .cli import main

sys.exit(main())
