"""Forms of the financed projects' pages: filters, financing, repayments, accompaniment,
visits, products, exhibitions. The rules are the services'; these forms only read input."""

from django import forms
from django.utils.translation import gettext_lazy as _
from i18nfield.forms import I18nModelForm

from tadamun.accounts.models import User
from tadamun.core.forms import DateInput, StyledFormMixin
from tadamun.organisations.models import Organisation
from tadamun.programmes.models import Programme
from tadamun.registry.models import Person
from tadamun.territories.models import Territory

from .models import (
    ApplicationKind,
    CoachingKind,
    Exhibition,
    Product,
    ProjectStatus,
    Sector,
    Visit,
)
from .uploads import checked_evidence, checked_photo


def _amount_field(label, required=True):
    """Amounts are read as text: the service checks them against the currency's decimals
    and says what is wrong in its own words."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def regions():
    """Governorates and regions: the territories just below a country."""
    return Territory.objects.filter(depth=1).order_by("path")


# --- Filters --------------------------------------------------------------------------------


class ProjectFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("code or title"), required=False, max_length=100)
    region = forms.ModelChoiceField(
        label=_("region"), queryset=Territory.objects.none(), required=False
    )
    sector = forms.ModelChoiceField(
        label=_("sector"), queryset=Sector.objects.all(), required=False
    )
    status = forms.ChoiceField(
        label=_("status"), choices=[("", "—"), *ProjectStatus.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("kind"), choices=[("", "—"), *ApplicationKind.choices], required=False
    )
    organisation = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organisation.objects.none(), required=False
    )
    year = forms.IntegerField(
        label=_("financed in"), required=False, min_value=1990, max_value=2100
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions()
        self.fields["organisation"].queryset = organisations

    def filters(self) -> dict:
        """The project filters chosen, as lookups for ``selectors.visible_projects``."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        chosen = {
            "region": data.get("region"),
            "sector": data.get("sector"),
            "status": data.get("status"),
            "kind": data.get("kind"),
            "organisation": data.get("organisation"),
        }
        if data.get("year"):
            # A range, not __year, so the (organisation, financed_on) index serves it.
            chosen["financed_on__gte"] = f"{data['year']}-01-01"
            chosen["financed_on__lt"] = f"{data['year'] + 1}-01-01"
        return chosen


class AtRiskFilterForm(ProjectFilterForm):
    """The list of projects at risk narrows by place, sector and organisation only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("q", "status", "kind", "year"):
            del self.fields[name]


class DashboardFilterForm(StyledFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organisation.objects.none(), required=False
    )
    programme = forms.ModelChoiceField(
        label=_("programme"), queryset=Programme.objects.none(), required=False
    )
    year = forms.IntegerField(
        label=_("financed in"), required=False, min_value=1990, max_value=2100
    )

    def __init__(self, *args, organisations=None, programmes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["programme"].queryset = programmes

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        chosen = {"organisation": data.get("organisation"), "programme": data.get("programme")}
        if data.get("year"):
            chosen["financed_on__gte"] = f"{data['year']}-01-01"
            chosen["financed_on__lt"] = f"{data['year'] + 1}-01-01"
        return chosen


PAR_DAYS = (30, 60, 90)


class PortfolioForm(StyledFormMixin, forms.Form):
    days = forms.TypedChoiceField(
        label=_("instalment unpaid for more than"),
        choices=[(d, _("%(days)d days") % {"days": d}) for d in PAR_DAYS],
        coerce=int,
        required=False,
        empty_value=30,
    )
    organisation = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organisation.objects.none(), required=False
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class CatalogueFilterForm(StyledFormMixin, forms.Form):
    region = forms.ModelChoiceField(
        label=_("governorate or region"), queryset=Territory.objects.none(), required=False
    )
    sector = forms.ModelChoiceField(
        label=_("sector"), queryset=Sector.objects.all(), required=False
    )

    def __init__(self, *args, region_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Territory.objects.filter(pk__in=region_ids).order_by(
            "path"
        )


# --- The project page's forms ---------------------------------------------------------------


class MentorForm(StyledFormMixin, forms.Form):
    mentor = forms.ModelChoiceField(label=_("mentor"), queryset=User.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, mentors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = mentors


class EvidenceForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("evidence"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidenced_on = forms.DateField(label=_("evidenced on"), required=False, widget=DateInput())
    file = forms.FileField(label=_("document (PDF or image, 5 MB at most)"), required=False)

    def clean_file(self):
        return checked_evidence(self.cleaned_data.get("file"))


class ReleaseForm(StyledFormMixin, forms.Form):
    released_on = forms.DateField(label=_("released on"), required=False, widget=DateInput())


class RepaymentForm(StyledFormMixin, forms.Form):
    amount = _amount_field(_("amount"))
    paid_on = forms.DateField(label=_("paid on"), required=False, widget=DateInput())


class CoachingForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CoachingKind.choices)
    held_on = forms.DateField(label=_("held on"), widget=DateInput())
    topic = forms.CharField(label=_("topic"), max_length=200)
    hours = forms.DecimalField(
        label=_("hours"), max_digits=5, decimal_places=2, min_value=0.25, max_value=999
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("present"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is None:
            people = Person.objects.unscoped("no choice").none()
        self.fields["attendees"].queryset = people
        self.fields["attendees"].widget.attrs["class"] = "list-unstyled"


class VisitPlanForm(StyledFormMixin, forms.Form):
    planned_on = forms.DateField(label=_("planned on"), widget=DateInput())


class VisitForm(StyledFormMixin, forms.Form):
    visit = forms.ModelChoiceField(
        label=_("planned visit"),
        queryset=Visit.objects.none(),
        required=False,
        empty_label=_("A visit that was not planned"),
    )
    visited_on = forms.DateField(label=_("visited on"), widget=DateInput())
    project_status = forms.ChoiceField(label=_("project status"), choices=ProjectStatus.choices)
    jobs_women = forms.IntegerField(
        label=_("jobs (women)"), required=False, min_value=0, max_value=100_000
    )
    jobs_men = forms.IntegerField(
        label=_("jobs (men)"), required=False, min_value=0, max_value=100_000
    )
    monthly_revenue = _amount_field(_("monthly revenue"), required=False)
    latitude = forms.DecimalField(
        label=_("latitude"), required=False, min_value=-90, max_value=90, decimal_places=6
    )
    longitude = forms.DecimalField(
        label=_("longitude"), required=False, min_value=-180, max_value=180, decimal_places=6
    )
    photo = forms.FileField(label=_("photo (JPEG, PNG or WebP, 5 MB at most)"), required=False)
    notes = forms.CharField(
        label=_("notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, planned=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = planned if planned is not None else Visit.objects.none()
        for name in ("latitude", "longitude"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})

    def clean_photo(self):
        return checked_photo(self.cleaned_data.get("photo"))

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error(
                "longitude" if data.get("longitude") is None else "latitude",
                _("Give both the latitude and the longitude, or neither."),
            )
        return data


class ProductForm(StyledFormMixin, I18nModelForm):
    price_min = _amount_field(_("lowest price"))
    price_max = _amount_field(_("highest price"))
    photo = forms.FileField(label=_("photo (JPEG, PNG or WebP, 5 MB at most)"), required=False)

    class Meta:
        model = Product
        fields = ["name", "description", "published"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["price_min"] = self.instance.price_min
            self.initial["price_max"] = self.instance.price_max
        self.order_fields(["name", "description", "price_min", "price_max", "photo", "published"])

    def clean_photo(self):
        return checked_photo(self.cleaned_data.get("photo"))

    def _post_clean(self):
        """The service validates the product with its project and prices."""


class ExhibitionForm(StyledFormMixin, I18nModelForm):
    organisation = forms.ModelChoiceField(
        label=_("organised by"), queryset=Organisation.objects.none()
    )
    territory = forms.ModelChoiceField(label=_("place"), queryset=Territory.objects.none())

    class Meta:
        model = Exhibition
        fields = ["name", "description", "starts_on", "ends_on", "venue"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["territory"].queryset = Territory.objects.filter(depth__lte=2).order_by("path")
        self.order_fields(["organisation", "name", "starts_on", "ends_on", "territory"])

    def _post_clean(self):
        """The service checks the dates and puts its message next to the field at fault."""


class StandForm(StyledFormMixin, forms.Form):
    project = forms.CharField(
        label=_("project code"),
        max_length=30,
        help_text=_("The code shown on the project's page."),
    )
    label = forms.CharField(label=_("stand"), max_length=20, required=False)
