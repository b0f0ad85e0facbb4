"""python -m services.web: serve the web front."""

import logging

import uvicorn

from services.web.app import build_app
from shared.settings import get_settings

settings = get_settings()
logging.basicConfig(level=settings.log_level, format="%(asctime)s web %(levelname)s %(message)s")
# httpx logs every request line at INFO; the pages' calls are not worth a line each.
logging.getLogger("httpx").setLevel(logging.WARNING)
uvicorn.run(
    build_app(settings),
    host=settings.http_host,
    port=settings.http_port("web"),
    log_level="warning",
    access_log=False,
)
