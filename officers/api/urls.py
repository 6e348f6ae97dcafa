"""Router of the officers app's API: /api/v1/units/, /officers/, /targets/."""

from rest_framework.routers import SimpleRouter

from .views import OfficerViewSet, TargetViewSet, UnitViewSet

router = SimpleRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("officers", OfficerViewSet, basename="officer")
router.register("targets", TargetViewSet, basename="target")

urlpatterns = router.urls
