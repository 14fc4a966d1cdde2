"""``python -m resnet_core ...``: see resnet_core.cli."""

import sys

from resnet_core.cli import main

sys.exit(main())
