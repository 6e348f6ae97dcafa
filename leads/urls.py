"""Officers' pages of the leads app (mounted at the site root by promo/web_urls.py)."""

from django.urls import path

from leads import views, views_visits

app_name = "leads"

urlpatterns = [
    path("visits/new/", views.visit_new, name="visit_new"),
    path("investors/search/", views.investor_search, name="investor_search"),
    path("leads/", views.lead_list, name="list"),
    path("leads/visits/", views_visits.visit_list, name="visit_list"),
    path(
        "leads/investors/visiting/",
        views_visits.visiting_investor_list,
        name="visiting_investors",
    ),
    path("leads/new/", views.lead_new, name="new"),
    path("leads/<int:pk>/", views.lead_detail, name="detail"),
    path("leads/<int:pk>/assist/", views.lead_assist, name="assist"),
    path("leads/<int:pk>/claim/", views.lead_claim, name="claim"),
    path("leads/<int:pk>/feedback/", views.lead_feedback, name="feedback"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
    path("claims/<int:pk>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("assist-requests/<int:pk>/decide/", views.assist_decide, name="assist_decide"),
    path("leads/<int:pk>/<slug:action>/", views.lead_action, name="action"),
]
