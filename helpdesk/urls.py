"""The help desk's agent pages. The customer page lives here too: it is the
help desk's view of a customer (customers/ has no page of its own)."""

from django.urls import path

from helpdesk import views

urlpatterns = [
    path("tickets/", views.ticket_mine, name="ticket-list"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/quick/", views.ticket_quick, name="ticket-quick"),
    path("tickets/queue/<int:queue_id>/", views.ticket_queue, name="ticket-queue"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:ticket_id>/comment/", views.ticket_comment_add, name="ticket-comment"),
    path("tickets/<int:ticket_id>/assign/", views.ticket_assign, name="ticket-assign"),
    path("tickets/<int:ticket_id>/status/", views.ticket_status, name="ticket-status"),
    path("tickets/<int:ticket_id>/opt-out/", views.ticket_opt_out, name="ticket-opt-out"),
    path("tickets/<int:ticket_id>/export/", views.ticket_export_page, name="ticket-export"),
    path(
        "tickets/<int:ticket_id>/export/produce/", views.ticket_export_produce, name="ticket-export-produce"
    ),
    path("tickets/<int:ticket_id>/export.json", views.ticket_export_json, name="ticket-export-json"),
    path("tickets/<int:ticket_id>/erase/", views.ticket_erase, name="ticket-erase"),
    path("customers/", views.customer_search, name="customer-search"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer-detail"),
    path(
        "customers/<int:customer_id>/numbers/<int:phone_id>/reassigned/",
        views.number_mark_reassigned,
        name="number-reassigned",
    ),
]
