"""Router of the leads app's API: investors, intermediaries, promotion events, leads, visits."""

from rest_framework.routers import SimpleRouter

from .views import (
    IntermediaryViewSet,
    InvestorViewSet,
    LeadViewSet,
    PromotionEventViewSet,
    VisitViewSet,
)

router = SimpleRouter()
router.register("investors", InvestorViewSet, basename="investor")
router.register("intermediaries", IntermediaryViewSet, basename="intermediary")
router.register("promotion-events", PromotionEventViewSet, basename="promotion-event")
router.register("leads", LeadViewSet, basename="lead")
router.register("visits", VisitViewSet, basename="visit")

urlpatterns = router.urls
