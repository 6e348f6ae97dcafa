"""Router of the officers app's API: /api/v1/units/, /officers/, /targets/, /api-clients/."""

from rest_framework.routers import SimpleRouter

from .views import ApiClientViewSet, OfficerViewSet, TargetViewSet, UnitViewSet

router = SimpleRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("officers", OfficerViewSet, basename="officer")
router.register("targets", TargetViewSet, basename="target")
router.register("api-clients", ApiClientViewSet, basename="api-client")

urlpatterns = router.urls
