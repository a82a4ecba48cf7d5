from django.urls import path

from compliance import views

urlpatterns = [
    path("compliance/", views.dashboard, name="compliance-dashboard"),
    path("compliance/decisions/<int:pk>/", views.decision_detail, name="decision-explain"),
    path("compliance/syncs/running/", views.running_syncs, name="compliance-running-syncs"),
    path("compliance/reports/", views.reports_page, name="compliance-reports"),
    path("compliance/timeline/", views.timeline_page, name="compliance-timeline"),
    path("compliance/attempts/<int:pk>/proof/", views.attempt_proof_page, name="attempt-proof"),
    path("compliance/attempts/<int:pk>/proof.pdf", views.attempt_proof_pdf, name="attempt-proof-pdf"),
]
