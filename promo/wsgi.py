"""WSGI entry point (gunicorn promo.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
application = get_wsgi_application()
