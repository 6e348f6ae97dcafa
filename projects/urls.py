"""Officers' pages of the projects app (mounted at the site root by promo/web_urls.py)."""

from django.urls import path

from projects import views, views_aftercare, views_investors

app_name = "projects"

urlpatterns = [
    # Before leads.urls (promo/urls.py): signing a lead makes a project, so it is served here.
    path("leads/<int:pk>/sign/", views.lead_sign, name="lead_sign"),
    path("projects/", views.project_list, name="list"),
    path("projects/board/", views.project_board, name="board"),
    path("projects/<int:pk>/", views.project_detail, name="detail"),
    path("projects/<int:pk>/advance/", views.project_advance, name="advance"),
    path("projects/<int:pk>/plan/", views.project_plan, name="plan"),
    path("projects/<int:pk>/figures/", views.project_figures, name="figures"),
    path("projects/<int:pk>/progress/", views.project_progress, name="progress"),
    path("projects/<int:pk>/milestones/", views.project_milestone, name="milestone"),
    path(
        "projects/<int:pk>/milestones/correct/",
        views.project_milestone_correct,
        name="milestone_correct",
    ),
    path(
        "projects/<int:pk>/milestones/<int:event_id>/evidence/",
        views.milestone_evidence_attach,
        name="milestone_evidence_attach",
    ),
    path("projects/<int:pk>/problems/new/", views.problem_new, name="problem_new"),
    # Aftercare (亲商服务): the enterprise's envoy, rhythm and service visits.
    path("projects/<int:pk>/aftercare/", views_aftercare.aftercare, name="aftercare"),
    path("projects/<int:pk>/aftercare/envoy/", views_aftercare.envoy_name, name="envoy_name"),
    path(
        "projects/<int:pk>/aftercare/visits/new/",
        views_aftercare.service_visit_new,
        name="service_visit_new",
    ),
    path(
        "projects/<int:pk>/stages/<int:event_id>/evidence/",
        views.evidence_attach,
        name="evidence_attach",
    ),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path(
        "milestone-evidence/<int:pk>/",
        views.milestone_evidence_download,
        name="milestone_evidence",
    ),
    path("investors/<int:pk>/", views_investors.investor_detail, name="investor"),
    path("investors/<int:pk>/contacts/new/", views_investors.contact_new, name="contact_new"),
    path("contacts/<int:pk>/edit/", views_investors.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/remove/", views_investors.contact_remove, name="contact_remove"),
    path("contacts/<int:pk>/reveal/", views_investors.contact_reveal, name="contact_reveal"),
    path(
        "intermediaries/<int:pk>/reveal/",
        views_investors.intermediary_reveal,
        name="intermediary_reveal",
    ),
    path("problems/<int:pk>/", views.problem_detail, name="problem"),
    path("problems/<int:pk>/<slug:action>/", views.problem_action, name="problem_action"),
]
