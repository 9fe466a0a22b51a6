"""`python -m madad` is the `madad` command."""

from madad.cli import main

main()
