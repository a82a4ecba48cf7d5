from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns import api

router = SimpleRouter()
router.register("campaigns", api.CampaignViewSet, basename="campaign")

urlpatterns = [
    path("compliance/check/", api.CheckView.as_view(), name="compliance-check"),
    path("campaigns/<int:pk>/targets/", api.TargetsView.as_view(), name="campaign-targets"),
    path("dialer/next/", api.DialerNextView.as_view(), name="dialer-next"),
    path(
        "dialer/attempts/<int:pk>/disposition/",
        api.DispositionView.as_view(),
        name="dialer-disposition",
    ),
    *router.urls,
]
