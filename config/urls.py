from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from reports.urls import public_urlpatterns

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = settings.ADMIN_SITE_HEADER
admin.site.index_title = settings.ADMIN_SITE_HEADER

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("excel/", include("ledger.spreadsheets.urls")),
    path("", include("config.health")),
    path("", include("members.urls")),
    path("", include("ledger.web.urls")),
    path("", include("ledger.review.urls")),
    path("reports/", include("reports.urls")),
    path("", include(public_urlpatterns)),
]
# No route serves MEDIA_ROOT, in any mode: evidence photos and generated documents are private
# and go out only through views that check the scope (ledger.web.views.evidence_image,
# reports.views.document_download / batch_download / public_period_pdf).

handler400 = "config.errors.bad_request"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
