"""The ``cartable`` console script: Django's commands, plus ``serve`` and ``demo``."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartable.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([sys.argv[0], *sys.argv[1:]])
    except ImproperlyConfigured as exc:
        # A setting missing or wrong (production refuses to start without its secret key,
        # hosts, database and HTTPS settings): say which, without a traceback.
        sys.exit(f"cartable: configuration refusée — {exc}")


if __name__ == "__main__":
    main()
