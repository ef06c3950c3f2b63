"""Noticeboard documents in the API (read only): status, hash and links, through the scope."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from core.api_filters import LedgerFilterSet
from reports.models import Document
from reports.selectors import period_public_url


class DocumentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    download_url = serializers.SerializerMethodField()
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "kind_display",
            "organisation",
            "period",
            "member",
            "year",
            "quarter",
            "status",
            "sha256",
            "pages",
            "requested_at",
            "finished_at",
            "duration_ms",
            "download_url",
            "public_url",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, document: Document) -> str | None:
        if document.status != "done":
            return None
        return self.context["request"].build_absolute_uri(reverse("reports:document_download", args=[document.pk]))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_public_url(self, document: Document) -> str | None:
        period = document.period
        if period is None or period.state not in ("posted", "final"):
            return None
        return period_public_url(period)


class DocumentFilter(LedgerFilterSet):
    class Meta:
        model = Document
        fields = ["kind", "year", "quarter", "status", "period", "member"]


class DocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """公示与报表: documents the user may read (their branches', or a member's own statement)."""

    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    queryset = Document.objects.none()

    def get_queryset(self):
        return (
            Document.objects.visible_to(self.request.user)
            .select_related("organisation", "period", "period__branch")
            .order_by("-id")
        )
