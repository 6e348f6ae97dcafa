"""WSGI entry point (gunicorn promo.wsgi:application)."""

import gc
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
application = get_wsgi_application()


def _freeze_start_up_objects() -> None:
    """Keep what every request shares out of Python's full garbage collections.

    A full collection walks every object the worker holds, and Django, the views and the
    translation catalogues are some 150,000 of them: each one paused the request it fell in
    by ~60 ms, the p95 of the served cockpit (docs/performance.md). Loaded first, then
    frozen, they are never walked again; what requests create is collected as before.

    The project's templates are compiled here too, once, in gunicorn's arbiter (the app is
    preloaded): otherwise each worker compiled every template it used on its first requests —
    again after every replacement (``max_requests``) — and kept their nodes unfrozen.
    """
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().check()  # imports the URLconf and every view module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("项目信息")  # loads the catalogue
    _compile_templates()
    gc.collect()
    gc.freeze()


def _compile_templates() -> None:
    """Every template of the project's folder, into the template loader's cache."""
    from django.template import Engine

    engine = Engine.get_default()
    for folder in map(Path, engine.dirs):
        for path in sorted(folder.rglob("*.html")):
            engine.get_template(path.relative_to(folder).as_posix())


_freeze_start_up_objects()
