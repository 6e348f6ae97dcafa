"""The officer's home page, the header's search box, what a form's draft asks before it is
restored, the calendar, and the phone app's service worker and manifest (served from the
root: a worker's scope is its folder)."""

from django.urls import path

from promo.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("submissions/<uuid:key>/", views.submission_state, name="submission_state"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/feed/", views.calendar_feed_issue, name="calendar_feed_issue"),
    path("calendar/feed/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    # The token (token_urlsafe: letters, digits, "-" and "_") is the credential; no session.
    path("calendar/feed/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
