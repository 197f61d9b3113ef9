"""``python -m web.cli``: the ``silkway`` command."""

from web.cli import main

main()
