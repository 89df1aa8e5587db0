"""`python -m judgerank` runs the CLI."""

from judgerank.cli import main

main()
