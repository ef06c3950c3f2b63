from django.urls import path

from ledger.review import views as feedback_views

urlpatterns = [
    path("p/<slug:code>/feedback/", feedback_views.feedback_create, name="feedback_create"),
    path("feedback/lookup/", feedback_views.feedback_lookup, name="feedback_lookup"),
]
