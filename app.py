"""WSGI entry point: `gunicorn app:server` (settings validated once, then passed to the factory)."""

from dashboard.app import create_app, start_web
from dashboard.config import get_settings

settings = get_settings()
start_web(settings)
app = create_app(settings)
server = app.server

if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=False)
