"""The organisation tree (county → township → branch) and committee role assignments."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager


class Organisation(models.Model):
    """A node of the party organisation tree. Only branches (村党支部) own members and a ledger."""

    class Level(models.TextChoices):
        COUNTY = "county", _("县（区）")
        TOWNSHIP = "township", _("乡镇（街道）")
        BRANCH = "branch", _("村（社区）党支部")

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=50, unique=True, help_text=_("用于公开网址，例如 shancha"))
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of ids ("/1/4/12/") so "everything below X" is one indexed prefix query.
    path = models.CharField(_("路径"), max_length=255, editable=False, db_index=True, default="")
    posting_window_days = models.PositiveSmallIntegerField(
        _("公示期（天）"), default=7, help_text=_("季度积分张榜公示的天数")
    )

    # scope: see branches/querysets.py
    organisation_path = "pk"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="county", parent__isnull=True)
                | models.Q(level__in=["township", "branch"], parent__isnull=False),
                name="organisation_parent_matches_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_branch(self) -> bool:
        return self.level == self.Level.BRANCH


class RoleAssignment(models.Model):
    """A user's role in an organisation: committee roles in a branch, officer roles above it."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("书记")
        DEPUTY = "deputy", _("副书记")
        COMMITTEE = "committee", _("支委委员")
        OFFICER = "officer", _("组织部门干部")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="roles",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("职务"), max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(_("任职登记时间"), auto_now_add=True)

    # scope: see branches/querysets.py
    organisation_path = "organisation"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("职务分工")
        verbose_name_plural = _("职务分工")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_role_display()} · {self.user}"
