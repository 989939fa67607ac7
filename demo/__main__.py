"""Run the local end-to-end demo: ``python -m demo --help``."""

import sys

from demo.cli import main

sys.exit(main())
