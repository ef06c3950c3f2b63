"""Public noticeboard addresses (fixed names other apps link to) and the staff screens."""

from django.urls import path

from reports import views

app_name = "reports"

# Included without a namespace: /p/<code>/…, /verify/…
public_urlpatterns = [
    path("p/<slug:code>/", views.public_branch, name="public_branch"),
    path("p/<slug:code>/<int:year>/<int:quarter>/", views.public_period, name="public_period"),
    path("p/<slug:code>/<int:year>/<int:quarter>/pdf/", views.public_period_pdf, name="public_period_pdf"),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:code>/", views.verify_code, name="verify_code"),
]

# Included under /reports/ with the "reports" namespace.
urlpatterns = [
    path("", views.home, name="home"),
    path("request/", views.document_request, name="request"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("batches/", views.batch_request, name="batch_request"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/<str:what>/", views.batch_download, name="batch_download"),
]
