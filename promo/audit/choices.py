"""The audit trail's vocabulary: what was done (action) and how it ended (outcome)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    SIGN_IN = "sign_in", _("登录")
    SIGN_OUT = "sign_out", _("退出")
    SIGN_IN_FAILED = "sign_in_failed", _("登录失败")
    LOCKOUT = "lockout", _("账号锁定")
    ACCESS_DENIED = "access_denied", _("拒绝访问")
    ADMIN_CHANGE = "admin_change", _("管理后台操作")
    ROLE_CHANGE = "role_change", _("角色或权限变更")
    PASSWORD_RESET = "password_reset", _("重置密码")
    TWO_FACTOR_RESET = "two_factor_reset", _("重置双因素认证")
    API_CLIENT_CHANGE = "api_client_change", _("接口客户端签发、轮换或吊销")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    API_CALL = "api_call", _("接口调用")
    PERSONAL_DATA_READ = "personal_data_read", _("查看个人信息")
    AUDIT_READ = "audit_read", _("查看审计记录")
    AUDIT_EXPORT = "audit_export", _("导出审计记录")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    DENIED = "denied", _("拒绝")
    FAILED = "failed", _("失败")
