from django.urls import path

from ledger.spreadsheets import views as excel_views

app_name = "excel"

urlpatterns = [
    path("import/", excel_views.import_start, name="import-start"),
    path("import/<int:pk>/", excel_views.import_preview_view, name="import-preview"),
    path("template/<str:kind>.xlsx", excel_views.import_template_view, name="import-template"),
    path("export/", excel_views.export_index, name="export-index"),
    path("export/<str:kind>.xlsx", excel_views.export_download, name="export-download"),
    path("export/jobs/<int:pk>/", excel_views.export_job, name="export-job"),
    path("export/jobs/<int:pk>/file/", excel_views.export_job_file, name="export-job-file"),
]
