"""Run the platform: pages and signalling on one ASGI server (uvicorn)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform (HTTP and WebSocket) with uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Worker processes (more than one needs REDIS_URL for the channel layer).",
        )
        parser.add_argument(
            "--migrate", action="store_true", help="Apply database migrations first."
        )

    def handle(self, *args, host, port, workers, migrate, **options):
        import uvicorn

        if workers > 1 and not settings.REDIS_URL:
            self.stderr.write("Several workers need REDIS_URL: they share the channel layer.")
            raise SystemExit(2)
        if migrate:
            call_command("migrate", interactive=False, verbosity=0)
        uvicorn.run(
            "cartable.asgi:application",
            host=host,
            port=port,
            workers=workers,
            ws="websockets-sansio",
            lifespan="off",
            log_level="warning",
            proxy_headers=settings.PRODUCTION,
            server_header=False,
        )
