"""`python -m engine worker`: the engine's CLI (faust's, with the engine's settings)."""

from __future__ import annotations

import sys

from engine.errors import ConfigurationError
from engine.settings import Settings


def main() -> None:
    """Entry point of `riec-engine` and `python -m engine`; exits 2 on a configuration error."""
    try:
        settings = Settings.from_env()
        from engine.app import create_app  # after the settings check: importing faust takes a second

        app = create_app(settings)
    except ConfigurationError as e:
        print(f"riec-engine: {e}", file=sys.stderr)
        sys.exit(2)
    app.main()


if __name__ == "__main__":
    main()
