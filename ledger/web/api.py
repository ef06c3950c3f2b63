"""The ledger over the API: scoring rules and quarters (read), point events (read, and claims).

Claims are recorded by ``ledger.book.services.claim_record``: a member for themselves, the branch
committee for a member of their branch. Deductions are never created here. A retried claim
with the same Idempotency-Key is answered from the first response and records nothing new.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import StrictSerializerMixin
from core.api_filters import IntegerFilter, LedgerFilterSet
from core.api_pagination import PageOrKeysetPagination
from ledger.book import rules, services
from ledger.book.models import Period, PointEvent, ScoringRule
from ledger.book.selectors import period_totals
from ledger.web.idempotency import IDEMPOTENCY_HEADER, idempotent_create
from members.models import Member


class RuleSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = ScoringRule
        fields = [
            "id",
            "code",
            "title",
            "kind",
            "default_points",
            "cap_per_quarter",
            "cap_per_year",
            "evidence_required",
            "description",
            "is_active",
            "organisation",
        ]


class RuleViewSet(viewsets.ReadOnlyModelViewSet):
    """积分细则: the scoring rules that apply to the user's branches."""

    serializer_class = RuleSerializer
    queryset = ScoringRule.objects.none()
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self):
        return (
            ScoringRule.objects.visible_to(self.request.user)
            .select_related("organisation")
            .order_by("kind", "code", "id")
        )


class PeriodSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    base = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    bonus = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    deduction = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    total = serializers.DecimalField(max_digits=10, decimal_places=1, read_only=True)
    short_hash = serializers.CharField(read_only=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "branch",
            "branch_name",
            "year",
            "quarter",
            "state",
            "signed_at",
            "short_hash",
            "posting_ends_on",
            "base",
            "bonus",
            "deduction",
            "total",
        ]


class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """季度: a branch's quarters, with approved totals by kind."""

    serializer_class = PeriodSerializer
    queryset = Period.objects.none()
    filterset_fields = ["branch", "year", "quarter", "state"]

    def get_queryset(self):
        return period_totals(Period.objects.visible_to(self.request.user).select_related("branch")).order_by(
            "branch_id", "-year", "-quarter"
        )


class EventSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.name", read_only=True)
    # Before entry_method there were two fields; both are still answered, derived from it.
    source = serializers.SerializerMethodField(help_text="已弃用：请读 entry_method（typed_in 在此显示为 on_behalf）")
    on_behalf = serializers.BooleanField(read_only=True, help_text="已弃用：entry_method == on_behalf")
    rule_title = serializers.CharField(source="rule.title", read_only=True)
    year = serializers.IntegerField(source="period.year", read_only=True)
    quarter = serializers.IntegerField(source="period.quarter", read_only=True)

    class Meta:
        model = PointEvent
        fields = [
            "id",
            "branch",
            "member",
            "member_name",
            "rule",
            "rule_title",
            "kind",
            "points",
            "original_points",
            "occurred_on",
            "year",
            "quarter",
            "place",
            "account",
            "entry_method",
            "source",
            "on_behalf",
            "status",
            "decision_reason",
            "corrects",
            "created_at",
        ]
        read_only_fields = fields

    def get_source(self, event: PointEvent) -> str:
        if event.entry_method == PointEvent.EntryMethod.TYPED_IN:
            return PointEvent.EntryMethod.ON_BEHALF
        return event.entry_method


@extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
class PointsField(serializers.Field):
    """A points value as typed, cleaned by ``ledger.book.rules.points_clean`` like every other caller."""

    def to_internal_value(self, data):
        refusal = rules.points_refusal(data)
        if refusal is not None:
            raise serializers.ValidationError(refusal.message, code=refusal.code)
        # As typed: the service checks its sign against the rule's kind and takes the magnitude.
        return data

    def to_representation(self, value):
        return str(value)


class ClaimSerializer(StrictSerializerMixin, serializers.Serializer):
    """A claim (申报): a bonus or base deed of a member. Points default to the rule's value."""

    member = serializers.PrimaryKeyRelatedField(
        queryset=PointEvent.objects.none(),
        error_messages={
            "does_not_exist": _("党员不存在或不在您的管辖范围内。"),
            "incorrect_type": _("请填写党员编号。"),
        },
    )
    rule = serializers.PrimaryKeyRelatedField(
        queryset=ScoringRule.objects.none(),
        error_messages={"does_not_exist": _("积分细则不存在或不适用。"), "incorrect_type": _("请填写细则编号。")},
    )
    occurred_on = serializers.DateField()
    account = serializers.CharField(max_length=2000, help_text="何时、何地、做了什么")
    points = PointsField(required=False, allow_null=True)
    place = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.context.get("request"), "user", None)
        self.fields["member"].queryset = Member.objects.visible_to(user).select_related("branch")
        self.fields["rule"].queryset = ScoringRule.objects.visible_to(user)


class EventFilter(LedgerFilterSet):
    year = IntegerFilter(field_name="period__year")
    source = django_filters.ChoiceFilter(
        field_name="entry_method", choices=PointEvent.EntryMethod.choices, help_text="已弃用：同 entry_method"
    )
    quarter = IntegerFilter(field_name="period__quarter")

    class Meta:
        model = PointEvent
        fields = ["member", "branch", "year", "quarter", "kind", "status", "entry_method"]


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """积分条目: entries of the user's branches (a member sees their own); claims are created here."""

    queryset = PointEvent.objects.none()
    filterset_class = EventFilter
    pagination_class = PageOrKeysetPagination

    def get_serializer_class(self):
        return ClaimSerializer if self.action == "create" else EventSerializer

    def get_queryset(self):
        return (
            PointEvent.objects.visible_to(self.request.user)
            .select_related("member", "rule", "period")
            .order_by("-occurred_on", "-id")
        )

    @extend_schema(
        request=ClaimSerializer,
        responses={201: EventSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="任意 1–100 字符；同一键重试同一请求时返回第一次的结果，不会重复登记。",
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        def record() -> Response:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            event = services.claim_record(
                actor=request.user,
                member=data["member"],
                rule=data["rule"],
                occurred_on=data["occurred_on"],
                account=data["account"],
                points=data.get("points"),
                place=data.get("place", ""),
            )
            event = self.get_queryset().get(pk=event.pk)
            return Response(EventSerializer(event, context=self.get_serializer_context()).data, status.HTTP_201_CREATED)

        return idempotent_create(request, record)
