from django.urls import path
from rest_framework.routers import SimpleRouter

from helpdesk import api

router = SimpleRouter()
router.register("tickets", api.TicketViewSet, basename="ticket")

urlpatterns = [
    path("tickets/<int:ticket_id>/comments/", api.TicketCommentsView.as_view(), name="ticket-comments"),
    *router.urls,
]
