import sys

from vaesae.report.cli import main

sys.exit(main())
