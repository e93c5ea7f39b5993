import sys

from workbench.faces.cli import main

sys.exit(main())
