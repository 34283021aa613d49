from django.db import models
from django.utils.translation import gettext_lazy as _
from i18nfield.fields import I18nCharField
from simple_history.models import HistoricalRecords


class TerritoryLevel(models.TextChoices):
    COUNTRY = "country", _("Country")
    REGION = "region", _("Region")
    GOVERNORATE = "governorate", _("Governorate")
    PROVINCE = "province", _("Province")
    REGIONAL_UNIT = "regional_unit", _("Regional unit")
    DELEGATION = "delegation", _("Delegation")
    MUNICIPALITY = "municipality", _("Municipality")
    CITY = "city", _("City")


class TerritoryQuerySet(models.QuerySet):
    def within(self, territory: "Territory") -> "TerritoryQuerySet":
        """The territory and everything below it."""
        return self.filter(path__startswith=territory.path)

    def countries(self) -> "TerritoryQuerySet":
        return self.filter(parent__isnull=True)


class Territory(models.Model):
    """A place in a hierarchy per country: country, region or governorate, municipality...

    ``path`` holds the codes from the country down (``/TN/TN-32/TN-32-TBK/``) so that
    "everything inside this governorate" is one indexed prefix match on any database.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=20, choices=TerritoryLevel.choices)
    name = I18nCharField(_("name"))
    path = models.CharField(max_length=400, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    history = HistoricalRecords()

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["path"]

    def __str__(self) -> str:
        return str(self.name) or self.code

    @property
    def country_code(self) -> str:
        return self.path.strip("/").split("/")[0]

    def compute_path(self) -> None:
        parent_path = self.parent.path if self.parent_id else "/"
        self.path = f"{parent_path}{self.code}/"
        self.depth = parent_path.count("/") - 1

    def ancestors(self) -> list["Territory"]:
        codes = self.path.strip("/").split("/")[:-1]
        by_code = {t.code: t for t in Territory.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]
