"""The REST API, versioned under /api/v1/, with its OpenAPI schema and documentation pages."""

from django.contrib.auth import authenticate
from django.urls import include, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import routers, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from branches.api import BranchViewSet
from core.api import ApiError, StrictSerializerMixin
from core.client import client_address
from core.ratelimit import CacheSafeThrottleMixin
from ledger.web.api import EventViewSet, PeriodViewSet, RuleViewSet
from members.api import MemberViewSet
from members.auth import token_issue
from reports.api import DocumentViewSet


class TokenRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="登录名或手机号码")
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class LoginThrottle(CacheSafeThrottleMixin, AnonRateThrottle):
    """30 a minute per address; with the cache down, refused with a clear 503, never a 500."""

    rate = "30/min"

    def on_cache_down(self):
        raise ApiError(status_code=503, code="unavailable", message=_("登录服务暂时不可用，请几分钟后再试。"))

    def get_ident(self, request):
        # The one proxy-aware address (TRUSTED_PROXY_COUNT), not the client-supplied X-Forwarded-For.
        return client_address(request)


class TokenView(APIView):
    """Exchange a login name (or a member's mobile number) and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"].strip()
        password = serializer.validated_data["password"]
        # The authentication backends accept a login name or a member's mobile number.
        user = authenticate(request, username=username, password=password)
        if getattr(request, "axes_locked_out", False):  # django-axes: too many failures, name or address
            raise ApiError(
                status_code=429,
                code="locked_out",
                message=_("登录失败次数过多，账号已暂时锁定，请稍后再试或联系管理员解锁。"),
            )
        if user is None or not user.is_active:
            raise ApiError(status_code=400, code="invalid_credentials", message=_("用户名（或手机号）或密码不正确。"))
        return Response({"token": token_issue(user).key})


router = routers.DefaultRouter()
router.register("branches", BranchViewSet, basename="branch")
router.register("members", MemberViewSet, basename="member")
router.register("rules", RuleViewSet, basename="rule")
router.register("periods", PeriodViewSet, basename="period")
router.register("events", EventViewSet, basename="event")
router.register("documents", DocumentViewSet, basename="document")

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
