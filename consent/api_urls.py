from django.urls import path
from rest_framework.routers import SimpleRouter

from consent.api import ConsentRevokeView, ConsentViewSet, InboundSmsView, InternalDncViewSet

router = SimpleRouter()
router.register("consents", ConsentViewSet, basename="consent")
router.register("dnc/internal", InternalDncViewSet, basename="dnc-internal")

urlpatterns = [
    path("consents/revoke/", ConsentRevokeView.as_view(), name="consent-revoke"),
    path("sms/inbound/", InboundSmsView.as_view(), name="sms-inbound"),
    *router.urls,
]
