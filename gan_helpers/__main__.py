"""``python -m gan_helpers``: see :mod:`gan_helpers.cli`."""

import sys

from gan_helpers.cli import main

sys.exit(main())
