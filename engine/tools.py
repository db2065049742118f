"""`python -m engine.tools`: the operators' command under its published name; it lives in
`engine.ops.tools`."""

from engine.ops.tools import cli

if __name__ == "__main__":
    cli()
