"""Party members (党员) of a branch."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import ScopedManager


class Member(models.Model):
    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    class Category(models.TextChoices):
        """Member categories, each held to its own standard (DESIGN.md §1)."""

        RURAL = "rural", _("农村党员")
        COMMUNITY = "community", _("社区党员")
        OFFICE = "office", _("机关党员")
        RETIRED = "retired", _("离退休党员")
        UNEMPLOYED = "unemployed", _("失业党员")
        PRIVATE = "private", _("非公企业党员")
        MIGRANT = "migrant", _("流动党员")

    class Standing(models.TextChoices):
        FULL = "full", _("正式党员")
        PROBATIONARY = "probationary", _("预备党员")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        TRANSFERRED = "transferred", _("已转出")
        DECEASED = "deceased", _("已去世")

    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("所在支部"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"level": "branch"},
    )
    name = models.CharField(_("姓名"), max_length=30)
    # Sort and search keys, derived from the name by members.services (never typed in).
    name_pinyin = models.CharField(_("姓名拼音"), max_length=120, editable=False, db_index=True)
    name_initials = models.CharField(_("拼音首字母"), max_length=30, editable=False, db_index=True)
    name_strokes = models.CharField(_("姓氏笔画序"), max_length=120, editable=False, db_index=True)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    category = models.CharField(_("党员类别"), max_length=12, choices=Category.choices, default=Category.RURAL)
    standing = models.CharField(_("党员身份"), max_length=12, choices=Standing.choices, default=Standing.FULL)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    group = models.CharField(_("村民小组"), max_length=30, blank=True)
    # Private contact details: never printed, never on a public page.
    phone = models.CharField(_("手机号码"), max_length=20, blank=True, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    owner_path = "user"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["name_strokes", "name_pinyin", "id"]
        indexes = [models.Index(fields=["branch", "status"])]

    def __str__(self) -> str:
        return self.name
