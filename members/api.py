"""Members: read for everyone in scope, create and change for the branch committee.

Writes call ``members.services``; contact details are accepted but never returned.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets

from branches.scope import branch_scope
from core.api import StrictSerializerMixin
from core.api_filters import LedgerFilterSet
from members import services
from members.models import Member

WRITABLE = ["name", "gender", "birth_date", "joined_on", "category", "standing", "status", "group"]


class MemberSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(),
        error_messages={"does_not_exist": _("支部不存在或不在您的管辖范围内。")},
    )
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)

    class Meta:
        model = Member
        fields = ["id", "branch", *WRITABLE, "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["branch"].queryset = branch_scope(getattr(request, "user", None), write=True)
        if self.instance is not None:
            self.fields["branch"].read_only = True

    def create(self, validated_data):
        branch = validated_data.pop("branch")
        name = validated_data.pop("name")
        return services.member_create(actor=self.context["request"].user, branch=branch, name=name, **validated_data)

    def update(self, instance, validated_data):
        return services.member_update(actor=self.context["request"].user, member=instance, **validated_data)


class MemberFilter(LedgerFilterSet):
    class Meta:
        model = Member
        fields = ["branch", "status", "category", "standing"]


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """党员: members of the user's branches (a member sees their own row)."""

    serializer_class = MemberSerializer
    queryset = Member.objects.none()
    filterset_class = MemberFilter

    def get_queryset(self):
        write = self.request.method not in ("GET", "HEAD", "OPTIONS")
        user = self.request.user
        return (Member.objects.writable_by(user) if write else Member.objects.visible_to(user)).order_by(
            "name_strokes", "name_pinyin", "id"
        )
