from django.urls import path

from campaigns import views

urlpatterns = [
    path("agent/", views.agent_home, name="agent-home"),
    path("agent/dialer/next/", views.agent_next, name="agent-next"),
    path(
        "agent/dialer/attempts/<int:attempt_id>/disposition/",
        views.agent_dispose,
        name="agent-dispose",
    ),
    path("agent/dialer/attempts/<int:attempt_id>/release/", views.agent_release, name="agent-release"),
]
