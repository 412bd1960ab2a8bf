import sys

from stackdag.cli import main

sys.exit(main())
