"""The URLconf of the web tests: the officers' pages and the language switch, without the API.

The REST API is developed alongside and imports DRF/drf-spectacular at URL-loading time;
the web pages do not depend on it, so their tests load only what they serve.
"""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("promo.web_urls")),
]
