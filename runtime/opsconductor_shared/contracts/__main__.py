"""`python -m opsconductor_shared.contracts`."""

import sys

from .cli import main

sys.exit(main())
