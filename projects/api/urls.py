"""Router of the projects app's API: /api/v1/projects/ and /api/v1/problems/."""

from rest_framework.routers import SimpleRouter

from .views import LeadSignViewSet, ProblemViewSet, ProjectViewSet, ServiceVisitViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("problems", ProblemViewSet, basename="problem")
router.register("service-visits", ServiceVisitViewSet, basename="service-visit")
# POST /api/v1/leads/{id}/sign/ (URL name lead-sign): signing a lead makes a project.
router.register("leads", LeadSignViewSet, basename="lead")

urlpatterns = router.urls
