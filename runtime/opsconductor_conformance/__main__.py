"""`python -m opsconductor_conformance`: the `opsconductor-contracts` command line."""

import sys

from .cli import main

sys.exit(main())
