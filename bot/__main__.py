"""`python -m bot` is the `servicebot` command."""

from bot.cli import main

raise SystemExit(main())
