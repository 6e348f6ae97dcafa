"""Choices shared by several apps (industry, region)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    ELECTRONICS = "electronics", _("电子信息")
    EQUIPMENT = "equipment", _("高端装备")
    AUTO = "auto", _("汽车及零部件")
    NEW_ENERGY = "new_energy", _("新能源")
    NEW_MATERIALS = "new_materials", _("新材料")
    BIOMEDICINE = "biomedicine", _("生物医药")
    CHEMICALS = "chemicals", _("精细化工")
    TEXTILES = "textiles", _("纺织服装")
    FOOD = "food", _("食品加工")
    DIGITAL = "digital", _("数字经济")
    LOGISTICS = "logistics", _("现代物流")
    FINANCE = "finance", _("金融")
    SERVICES = "services", _("现代服务业")
    TOURISM = "tourism", _("文化旅游")
    AGRICULTURE = "agriculture", _("现代农业")
    OTHER = "other", _("其他")


class Region(models.TextChoices):
    """Where an investor comes from, in the groups chiefs report on."""

    DOMESTIC = "domestic", _("境内")
    HONG_KONG = "hk", _("香港")
    MACAU = "macau", _("澳门")
    TAIWAN = "taiwan", _("台湾")
    JAPAN = "japan", _("日本")
    KOREA = "korea", _("韩国")
    SINGAPORE_ASEAN = "asean", _("新加坡及东盟")
    EUROPE = "europe", _("欧洲")
    NORTH_AMERICA = "north_america", _("北美")
    OTHER = "other", _("其他境外")

    @classmethod
    def foreign(cls) -> list[str]:
        return [value for value in cls.values if value != cls.DOMESTIC]
