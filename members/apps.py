from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("党员")

    def ready(self):
        from branches.admin_scope import register_choices
        from members.models import Member
        from members.selectors import member_scope

        register_choices(Member, lambda user: member_scope(user, write=True).select_related("branch"))
