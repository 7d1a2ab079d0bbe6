"""The ``rnnlab`` console script: imports the package only inside ``main``, so that a Ctrl-C while it loads
(NumPy and the rest take a good part of a second) ends with one line and exit status 130, not a traceback."""
import sys


def main() -> int:
    try:
        from rnnlab.cli import main as run
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())
