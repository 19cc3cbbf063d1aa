"""``python -m torchw2v``: the command line of :mod:`torchw2v.cli`."""
from torchw2v.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
