import sys

from bench.pg.run import main

if __name__ == "__main__":
    sys.exit(main())
