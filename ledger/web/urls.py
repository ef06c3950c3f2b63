from django.urls import path

from ledger.web import views

urlpatterns = [
    path("overview/", views.overview, name="overview"),
    path("b/<int:branch_id>/", views.branch_home, name="branch_home"),
    path("b/<int:branch_id>/members/", views.branch_members, name="branch_members"),
    path("b/<int:branch_id>/members/<int:member_id>/", views.member_account, name="member_account"),
    path("b/<int:branch_id>/members/<int:member_id>/statement/", views.member_statement, name="member_statement"),
    path("b/<int:branch_id>/rule-info/", views.rule_info, name="rule_info"),
    path("b/<int:branch_id>/claims/new/", views.claim_create, name="claim_create"),
    path("b/<int:branch_id>/deductions/new/", views.deduction_create, name="deduction_create"),
    path("b/<int:branch_id>/group/new/", views.group_activity_create, name="group_activity_create"),
    path("b/<int:branch_id>/meetings/", views.meeting_list, name="meeting_list"),
    path("b/<int:branch_id>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("b/<int:branch_id>/meetings/<int:meeting_id>/", views.meeting_detail, name="meeting_detail"),
    path("evidence/<int:evidence_id>/", views.evidence_image, name="evidence_image"),
    path("me/", views.my_account, name="my_account"),
    path("me/statement/", views.my_statement, name="my_statement"),
    path("me/declare/", views.my_declare, name="my_declare"),
    path("me/rule-info/", views.my_rule_info, name="my_rule_info"),
]
