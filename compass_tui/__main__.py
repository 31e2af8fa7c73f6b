import sys

from compass_tui.cli import main

sys.exit(main())
