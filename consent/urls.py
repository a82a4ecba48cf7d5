from django.urls import path

from consent import views

urlpatterns = [
    path("preferences/<str:token>/", views.preferences, name="preferences"),
]
