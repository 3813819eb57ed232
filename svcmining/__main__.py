"""``python -m svcmining`` is the ``svcmining`` command."""

import sys

from .cli import main

sys.exit(main())
