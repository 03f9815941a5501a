"""WSGI entry point: `gunicorn app:server`."""

from dashboard.app import create_app, prepare_database

prepare_database(print_passwords=True)
app = create_app()
server = app.server

if __name__ == "__main__":
    from dashboard.config import get_settings

    settings = get_settings()
    app.run(host=settings.host, port=settings.port, debug=False)
