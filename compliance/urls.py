from django.urls import path

from compliance import views

urlpatterns = [
    path("compliance/", views.dashboard, name="compliance-dashboard"),
    path("compliance/decisions/<int:pk>/", views.decision_detail, name="decision-explain"),
]
