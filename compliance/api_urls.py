from django.urls import path

from compliance.api import CustomerEraseView

urlpatterns = [
    path("customers/<int:pk>/erase/", CustomerEraseView.as_view(), name="customer-erase"),
]
