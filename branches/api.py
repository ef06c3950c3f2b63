"""Branches (read only), through the scope function."""

from rest_framework import serializers, viewsets

from branches.models import Organisation
from branches.scope import branch_scope


class BranchSerializer(serializers.ModelSerializer):
    township = serializers.CharField(source="parent.name", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "code", "township", "posting_window_days"]


class BranchViewSet(viewsets.ReadOnlyModelViewSet):
    """村（社区）党支部: the branches the user may see."""

    serializer_class = BranchSerializer
    queryset = Organisation.objects.none()

    def get_queryset(self):
        return branch_scope(self.request.user).select_related("parent").order_by("path")
