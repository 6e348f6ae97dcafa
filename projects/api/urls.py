"""Router of the projects app's API: /api/v1/projects/ and /api/v1/problems/."""

from rest_framework.routers import SimpleRouter

from .views import ProblemViewSet, ProjectViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("problems", ProblemViewSet, basename="problem")

urlpatterns = router.urls
