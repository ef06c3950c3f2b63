"""The book: scoring rules, quarters, point events, evidence, totals, triggers and the hash chain.

Models of the `ledger` app (registered through ledger/models.py)."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.querysets import InheritedManager, ScopedManager
from core.points import points_format
from core.quarters import quarter_label


class Kind(models.TextChoices):
    BASE = "base", _("基础积分")
    BONUS = "bonus", _("贡献加分")
    DEDUCTION = "deduction", _("违规扣分")


class ScoringRule(models.Model):
    """积分细则: one line of an organisation's scoring catalogue, inherited by every branch below."""

    organisation = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("制定组织"),
        on_delete=models.PROTECT,
        related_name="rules",
    )
    code = models.SlugField(_("编号"), max_length=40)
    title = models.CharField(_("细则名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    default_points = models.DecimalField(
        _("默认分值"), max_digits=5, decimal_places=1, help_text=_("正数；扣分细则记为扣减的分数")
    )
    cap_per_quarter = models.DecimalField(_("每季度上限"), max_digits=6, decimal_places=1, null=True, blank=True)
    cap_per_year = models.DecimalField(_("每年上限"), max_digits=6, decimal_places=1, null=True, blank=True)
    evidence_required = models.BooleanField(_("须附证明材料"), default=False)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    # scope: see branches/querysets.py
    organisation_path = "organisation"
    objects = InheritedManager()

    class Meta:
        verbose_name = _("积分细则")
        verbose_name_plural = _("积分细则")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="rule_code_unique"),
            models.CheckConstraint(condition=models.Q(default_points__gte=0), name="rule_default_points_positive"),
            models.CheckConstraint(
                condition=models.Q(cap_per_quarter__isnull=True) | models.Q(cap_per_quarter__gt=0),
                name="rule_quarter_cap_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(cap_per_year__isnull=True) | models.Q(cap_per_year__gt=0),
                name="rule_year_cap_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.signed_default_display}）"

    @property
    def signed_default(self) -> Decimal:
        return -self.default_points if self.kind == Kind.DEDUCTION else self.default_points

    @property
    def signed_default_display(self) -> str:
        return points_format(self.signed_default)


class Period(models.Model):
    """One branch's quarter. Once signed it is frozen: its events can never change."""

    class State(models.TextChoices):
        OPEN = "open", _("进行中")
        REVIEW = "review", _("支委会审核中")
        SIGNED = "signed", _("书记已签字")
        POSTED = "posted", _("公示中")
        FINAL = "final", _("已定稿")

    FROZEN_STATES = ("signed", "posted", "final")

    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="periods",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    review_started_at = models.DateTimeField(_("开始审核时间"), null=True, blank=True)
    review_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开始审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签字人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Position in the branch's chain of signed quarters (1, 2, 3, …) in signing order.
    chain_index = models.PositiveIntegerField(_("链序号"), null=True, blank=True, editable=False)
    previous_hash = models.CharField(_("上一季度校验码"), max_length=64, blank=True, editable=False)
    content_hash = models.CharField(_("校验码"), max_length=64, blank=True, editable=False)
    # How content_hash was computed: 1 = the events only (quarters signed before the snapshot
    # existed); 2 = the events and ``signed_snapshot``. See ledger/book/selectors.py.
    hash_version = models.PositiveSmallIntegerField(_("校验算法版本"), default=1, editable=False)
    # What the board showed when the secretary signed (names, 村民小组, rule titles, figures,
    # totals): the posting, the public page, exports and /verify/ of a signed quarter read this,
    # never the live roll. Part of the hashed content; frozen by trigger with the quarter.
    signed_snapshot = models.JSONField(_("签字时的公示内容"), default=dict, blank=True, editable=False)
    posted_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    posting_ends_on = models.DateField(_("公示截止日期"), null=True, blank=True)
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("季度")
        verbose_name_plural = _("季度")
        ordering = ["branch", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "year", "quarter"], name="period_unique"),
            models.UniqueConstraint(fields=["branch", "chain_index"], name="period_chain_unique"),
            models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4), name="period_quarter_1_to_4"),
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "review"])
                | (models.Q(signed_at__isnull=False, chain_index__isnull=False) & ~models.Q(content_hash="")),
                name="period_signed_has_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {quarter_label(self.year, self.quarter)}"

    @property
    def is_frozen(self) -> bool:
        return self.state in self.FROZEN_STATES

    @property
    def label(self) -> str:
        return quarter_label(self.year, self.quarter)

    @property
    def short_hash(self) -> str:
        """The verification code as read aloud from a printed board: 4 groups of 4."""
        h = self.content_hash.upper()
        return "-".join(h[i : i + 4] for i in range(0, 16, 4)) if h else ""


class PointEvent(models.Model):
    """One entry in the ledger: a claim, a grant, a deduction or a correction of an earlier entry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    class EntryMethod(models.TextChoices):
        """Who declared the entry and how it got into the ledger (申报与录入方式), in one field."""

        SELF = "self", _("本人申报")  # the member, on the web or through the API
        TYPED_IN = "typed_in", _("本人申报，代为录入")  # declared by the member, typed in by the secretary
        ON_BEHALF = "on_behalf", _("代为申报")  # 代办: the secretary declared it for the member
        GROUP = "group", _("集体活动")
        MEETING = "meeting", _("会议考勤")
        BASE = "base", _("年度基础分")
        COMMITTEE = "committee", _("支委会认定")
        CORRECTION = "correction", _("更正")
        IMPORT = "import", _("导入")

        @classmethod
        def member_claims(cls) -> tuple[str, ...]:
            """Claims (个人申报) of one member's own deed, as opposed to grants, credits and decisions."""
            return (cls.SELF, cls.TYPED_IN, cls.ON_BEHALF)

    branch = models.ForeignKey(
        "branches.Organisation",
        verbose_name=_("支部"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="events"
    )
    period = models.ForeignKey(Period, verbose_name=_("季度"), on_delete=models.PROTECT, related_name="events")
    rule = models.ForeignKey(ScoringRule, verbose_name=_("积分细则"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    points = models.DecimalField(_("分值"), max_digits=6, decimal_places=1)
    original_points = models.DecimalField(_("调整前分值"), max_digits=6, decimal_places=1, null=True, blank=True)
    occurred_on = models.DateField(_("发生日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    account = models.TextField(_("事由"), help_text=_("何时、何地、做了什么"))
    entry_method = models.CharField(_("申报与录入方式"), max_length=12, choices=EntryMethod.choices)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申报人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("审核状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decision_reason = models.TextField(_("审核意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的原条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    # The villager's feedback (群众反映) a committee deduction or correction was decided on.
    feedback = models.ForeignKey(
        "ledger.Feedback",
        verbose_name=_("依据的群众反映"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    # Makes a deed recorded twice impossible at the database level (base grants, meeting credits).
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # scope: see branches/querysets.py
    branch_path = "branch"
    owner_path = "member__user"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("积分条目")
        verbose_name_plural = _("积分条目")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["period", "status"]),
            models.Index(fields=["member", "period"]),
            # the lists' default order (newest first), whole county and one branch (0008)
            models.Index(fields=["-occurred_on", "-id"], name="event_newest_idx"),
            models.Index(fields=["branch", "-occurred_on", "-id"], name="event_branch_newest_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(corrects__isnull=False)
                | models.Q(kind="deduction", points__lte=0)
                | (models.Q(kind__in=["base", "bonus"]) & models.Q(points__gte=0)),
                name="event_points_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(decision_reason=""),
                name="event_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_at__isnull=False),
                name="event_decision_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(original_points__isnull=True) | ~models.Q(decision_reason=""),
                name="event_adjustment_has_reason",
            ),
            models.CheckConstraint(condition=~models.Q(account=""), name="event_account_required"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.rule.title} {self.points_display}"

    @property
    def points_display(self) -> str:
        return points_format(self.points)

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None

    @property
    def on_behalf(self) -> bool:
        """Declared by the secretary for the member (代办), not by the member."""
        return self.entry_method == self.EntryMethod.ON_BEHALF


def evidence_path(instance: "Evidence", filename: str) -> str:
    # A random folder: file names can't be guessed even if a path ever became public.
    return f"evidence/{instance.event.branch_id}/{instance.event_id}/{secrets.token_urlsafe(12)}/{filename}"


class Evidence(models.Model):
    """A photo supporting an entry, stored downscaled and without location metadata."""

    event = models.ForeignKey(PointEvent, verbose_name=_("积分条目"), on_delete=models.PROTECT, related_name="evidence")
    image = models.ImageField(_("照片"), upload_to=evidence_path)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    # scope: see branches/querysets.py
    branch_path = "event__branch"
    owner_path = "event__member__user"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")

    def __str__(self) -> str:
        return f"{self.event_id}: {self.image.name}"


class MemberQuarterTotal(models.Model):
    """Cached sum of a member's approved events in a quarter, kept under a row lock by services.

    It must always equal the sum of the events (ledger_verify checks it); it exists so lists
    and rankings of thousands of members read one row per member-quarter.
    """

    member = models.ForeignKey(
        "members.Member", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="totals"
    )
    period = models.ForeignKey(Period, verbose_name=_("季度"), on_delete=models.PROTECT, related_name="totals")
    base = models.DecimalField(_("基础积分"), max_digits=8, decimal_places=1, default=0)
    bonus = models.DecimalField(_("贡献加分"), max_digits=8, decimal_places=1, default=0)
    deduction = models.DecimalField(_("违规扣分"), max_digits=8, decimal_places=1, default=0)
    total = models.DecimalField(_("合计"), max_digits=8, decimal_places=1, default=0)

    # scope: see branches/querysets.py
    branch_path = "period__branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("季度积分合计")
        verbose_name_plural = _("季度积分合计")
        # a quarter's (or a branch's) sums read from the index alone (period_totals, branch_totals)
        indexes = [
            models.Index(
                fields=["period"], include=["base", "bonus", "deduction", "total"], name="total_period_cover_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "period"], name="total_unique"),
            models.CheckConstraint(
                condition=models.Q(total=models.F("base") + models.F("bonus") + models.F("deduction")),
                name="total_is_sum_of_parts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period_id}: {self.total}"


class QuarterCount(models.Model):
    """How many entries a quarter holds in each review state, kept in step by services.

    One row per quarter, changed in the same transaction as the entry (under the quarter's row
    lock, which every claim and decision takes anyway). It exists so the overview and the county
    roll-up read one row per branch instead of counting every entry of the quarter; it must equal
    the entries (``stored_totals_mismatches`` checks it, so ``ledger_verify`` and the tests do)."""

    period = models.OneToOneField(Period, verbose_name=_("季度"), on_delete=models.PROTECT, related_name="counts")
    pending = models.PositiveIntegerField(_("待审核"), default=0)
    approved = models.PositiveIntegerField(_("已通过"), default=0)
    rejected = models.PositiveIntegerField(_("未通过"), default=0)

    # scope: see branches/querysets.py
    branch_path = "period__branch"
    objects = ScopedManager()

    class Meta:
        verbose_name = _("季度条目数")
        verbose_name_plural = _("季度条目数")

    def __str__(self) -> str:
        return f"{self.period_id}: {self.pending}/{self.approved}/{self.rejected}"
