"""Forms of the calls, applications, public application and committee pages.

Amounts are typed as text and checked by the service functions (``services.money``), so that
the currency's own decimals, negative amounts and totals that do not add up are told in the
same words on every page, next to the field at fault.
"""

import datetime

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from i18nfield.forms import I18nFormField, I18nModelForm, I18nTextInput

from tadamun.accounts.models import User
from tadamun.core.forms import DateInput, StyledFormMixin
from tadamun.core.validators import validate_name, validate_plain_text, validate_single_line
from tadamun.organisations.models import Organisation
from tadamun.programmes.models import Programme
from tadamun.registry.models import Group, GroupKind, MemberRole, Person, Sex
from tadamun.territories.models import Territory

from .models import (
    ApplicantKinds,
    ApplicationKind,
    Call,
    FinancingKind,
    FundingSource,
    Sector,
)
from .uploads import validate_attachment

MAX_ROWS = 30


class AmountField(forms.CharField):
    """An amount typed as text; the service checks it against the currency."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)


def _style(form) -> None:
    """Bootstrap classes for fields added after ``StyledFormMixin`` ran."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.RadioSelect, forms.HiddenInput, forms.CheckboxInput)):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if css not in widget.attrs.get("class", "").split():
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


def envelope_territories(call: Call):
    """The territories a call covers: those of its envelopes and everything below them."""
    paths = [e.territory.path for e in call.envelopes.select_related("territory")]
    if not paths:
        return Territory.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return Territory.objects.filter(condition).order_by("path")


def call_sectors(call: Call):
    sectors = call.sectors.all()
    return sectors if sectors.exists() else Sector.objects.all()


def user_label(user) -> str:
    """A user in a list of colleagues: the name, and the username that tells namesakes apart."""
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


# --- Calls --------------------------------------------------------------------------------


class CallForm(StyledFormMixin, I18nModelForm):
    organisation = forms.ModelChoiceField(
        label=_("published by"), queryset=Organisation.objects.none()
    )
    sectors = forms.ModelMultipleChoiceField(
        label=_("sectors"),
        queryset=Sector.objects.none(),
        required=False,
        help_text=_("Leave empty to accept every sector."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Call
        fields = [
            "code",
            "title",
            "description",
            "programme",
            "opens_on",
            "closes_on",
            "applicants",
            "eligibility",
            "min_age",
            "max_age",
            "currency",
            "max_amount",
            "sectors",
        ]
        widgets = {"opens_on": DateInput(), "closes_on": DateInput()}

    def __init__(self, *args, organisations=None, programmes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sectors"].queryset = Sector.objects.order_by("code")
        self.fields["programme"].queryset = programmes
        if self.instance.pk:
            # The code is in the public page's address: it stays as published.
            del self.fields["code"]
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
            self.order_fields(["organisation", "code"])

    def validate_unique(self):
        """The service checks the code over every call, seen or not."""

    def _get_validation_exclusions(self):
        """The window and the amounts are checked by the service, which names the field."""
        return super()._get_validation_exclusions() | {"opens_on", "closes_on", "max_amount"}

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("organisation", None)
        data.pop("sectors", None)
        return data


class EnvelopeForm(StyledFormMixin, forms.Form):
    territory = forms.ModelChoiceField(label=_("territory"), queryset=Territory.objects.none())
    amount = AmountField(label=_("envelope"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.order_by("path")


class CriterionForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("code"), max_length=40)
    label = I18nFormField(label=_("criterion"), widget=I18nTextInput, max_length=200)
    weight = forms.DecimalField(label=_("weight"), max_digits=5, decimal_places=2)
    max_score = forms.IntegerField(label=_("highest score"), initial=10)


class DocumentForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("code"), max_length=40)
    label = I18nFormField(label=_("document"), widget=I18nTextInput, max_length=200)
    mandatory = forms.BooleanField(label=_("mandatory"), required=False, initial=True)


# --- Business plan rows (formsets) ----------------------------------------------------------


class InvestmentRowForm(StyledFormMixin, forms.Form):
    label = forms.CharField(
        label=_("item"), max_length=200, required=False, validators=[validate_plain_text]
    )
    quantity = forms.DecimalField(
        label=_("quantity"), max_digits=10, decimal_places=2, required=False, initial=1
    )
    unit_cost = AmountField(label=_("unit cost"), required=False)

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "label": data.get("label", ""),
            "quantity": str(data["quantity"]) if data.get("quantity") is not None else "1",
            "unit_cost": data.get("unit_cost", ""),
        }


class FinancingRowForm(StyledFormMixin, forms.Form):
    source = forms.ChoiceField(
        label=_("source"), choices=[("", "—"), *FundingSource.choices], required=False
    )
    amount = AmountField(label=_("amount"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("amount") and not data.get("source"):
            self.add_error("source", _("Say where this money comes from."))
        return data

    def row(self) -> dict:
        return {"source": self.cleaned_data["source"], "amount": self.cleaned_data["amount"]}


class MemberRowForm(StyledFormMixin, forms.Form):
    """A member of a collective, as the applicant describes them on the public page."""

    given_name = forms.CharField(
        label=_("given name"), max_length=150, required=False, validators=[validate_name]
    )
    family_name = forms.CharField(
        label=_("family name"), max_length=150, required=False, validators=[validate_name]
    )
    sex = forms.ChoiceField(
        label=_("sex"), choices=Sex.choices, initial=Sex.UNKNOWN, required=False
    )
    birth_year = forms.IntegerField(label=_("year of birth"), required=False)
    role = forms.ChoiceField(
        required=False,
        label=_("role"),
        choices=[
            (MemberRole.MEMBER, MemberRole.MEMBER.label),
            (MemberRole.PRESIDENT, MemberRole.PRESIDENT.label),
            (MemberRole.TREASURER, MemberRole.TREASURER.label),
            (MemberRole.SECRETARY, MemberRole.SECRETARY.label),
        ],
        initial=MemberRole.MEMBER,
    )
    share = forms.DecimalField(
        label=_("share (%)"),
        max_digits=5,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year = timezone.localdate().year
        self.fields["birth_year"].validators += [
            MinValueValidator(year - 110),
            MaxValueValidator(year),
        ]

    def has_changed(self):
        # The choices have initial values: a row counts when a name was typed.
        return bool(self.data.get(self.add_prefix("given_name"), "").strip()) or bool(
            self.data.get(self.add_prefix("family_name"), "").strip()
        )

    def clean(self):
        data = super().clean()
        if self.has_changed() and not data.get("given_name"):
            self.add_error("given_name", _("This field is required."))
        return data

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "given_name": data["given_name"],
            "family_name": data["family_name"],
            "sex": data.get("sex") or Sex.UNKNOWN,
            "birth_year": data.get("birth_year"),
            "role": data.get("role") or MemberRole.MEMBER,
            "share": str(data["share"]) if data.get("share") is not None else None,
        }


class TrancheRowForm(StyledFormMixin, forms.Form):
    component = forms.ChoiceField(
        label=_("component"), choices=[("", "—"), *FinancingKind.choices], required=False
    )
    amount = AmountField(label=_("amount"), required=False)
    milestone = forms.CharField(
        label=_("milestone"), max_length=300, required=False, validators=[validate_plain_text]
    )
    planned_on = forms.DateField(label=_("planned on"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if (data.get("amount") or data.get("milestone")) and not data.get("component"):
            self.add_error("component", _("Say which financing this tranche belongs to."))
        return data


def _formset(form, extra):
    return forms.formset_factory(
        form, extra=extra, max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS
    )


InvestmentFormSet = _formset(InvestmentRowForm, 3)
FinancingFormSet = _formset(FinancingRowForm, 2)
MemberFormSet = _formset(MemberRowForm, 2)
TrancheFormSet = _formset(TrancheRowForm, 2)

# The formsets a page may ask one more empty row of ("add a row"), by prefix.
ROW_FORMSETS = {
    "inv": InvestmentFormSet,
    "fin": FinancingFormSet,
    "mem": MemberFormSet,
    "tr": TrancheFormSet,
}


def filled_rows(formset) -> list:
    """The forms of a formset the user typed something in, in order."""
    return [f for f in formset.forms if f.has_changed() and not f.errors]


# --- Applications -------------------------------------------------------------------------


def kind_choices(call: Call):
    if call.applicants == ApplicantKinds.BOTH:
        return ApplicationKind.choices
    return [(call.applicants, ApplicationKind(call.applicants).label)]


class PlanFieldsMixin:
    """What every application states, at the desk or on the public page."""

    def add_plan_fields(self, call: Call):
        self.fields["kind"] = forms.ChoiceField(
            label=_("kind of application"),
            choices=kind_choices(call),
            initial=kind_choices(call)[0][0],
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        )
        self.fields["territory"] = forms.ModelChoiceField(
            label=_("territory"), queryset=envelope_territories(call)
        )
        self.fields["sector"] = forms.ModelChoiceField(
            label=_("sector"), queryset=call_sectors(call)
        )
        self.fields["title"] = forms.CharField(
            label=_("project title"), max_length=200, validators=[validate_plain_text]
        )
        self.fields["summary"] = forms.CharField(
            label=_("summary"),
            max_length=4000,
            required=False,
            validators=[validate_plain_text],
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["financing_kind"] = forms.ChoiceField(
            label=_("financing asked"), choices=FinancingKind.choices
        )
        self.fields["requested_amount"] = AmountField(
            label=_("amount requested (%(currency)s)") % {"currency": call.currency}
        )
        self.fields["expected_monthly_revenue"] = AmountField(
            label=_("expected monthly revenue (%(currency)s)") % {"currency": call.currency},
            required=False,
        )
        self.fields["expected_jobs_women"] = forms.IntegerField(
            label=_("expected jobs (women)"), min_value=0, max_value=1000, initial=0
        )
        self.fields["expected_jobs_men"] = forms.IntegerField(
            label=_("expected jobs (men)"), min_value=0, max_value=1000, initial=0
        )
        self.documents = list(call.documents.all())
        for document in self.documents:
            self.fields[f"doc_{document.pk}"] = forms.FileField(
                label=str(document),
                required=False,
                validators=[validate_attachment],
                help_text=_("Required") if document.mandatory else _("Optional"),
            )

    def attachments(self) -> list:
        return [
            (d, self.cleaned_data[f"doc_{d.pk}"])
            for d in self.documents
            if self.cleaned_data.get(f"doc_{d.pk}")
        ]

    def plan_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "summary": data["summary"],
            "financing_kind": data["financing_kind"],
            "requested_amount": data["requested_amount"],
            "expected_monthly_revenue": data["expected_monthly_revenue"] or None,
            "expected_jobs_women": data["expected_jobs_women"],
            "expected_jobs_men": data["expected_jobs_men"],
        }


class DeskApplicationForm(PlanFieldsMixin, StyledFormMixin, forms.Form):
    """An application recorded at a desk, for a person or a collective of the registry."""

    promoter = forms.ModelChoiceField(
        label=_("promoter"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    group = forms.ModelChoiceField(
        label=_("collective"), queryset=Group.objects.none(), required=False
    )
    submitted_on = forms.DateField(label=_("received on"), widget=DateInput())

    def __init__(self, *args, call: Call, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_plan_fields(call)
        self.fields["promoter"].queryset = Person.objects.visible_to(user)
        self.fields["group"].queryset = Group.objects.visible_to(user).filter(
            archived_at__isnull=True
        )
        self.fields["submitted_on"].initial = timezone.localdate()
        _style(self)
        self.order_fields(["kind", "promoter", "group", "territory", "sector", "title", "summary"])

    def clean(self):
        data = super().clean()
        kind, group = data.get("kind"), data.get("group")
        if kind == ApplicationKind.COLLECTIVE and group is None:
            self.add_error("group", _("A collective application names the collective."))
        if kind == ApplicationKind.INDIVIDUAL and data.get("promoter") is None:
            self.add_error("promoter", _("Pick the promoter."))
        if kind == ApplicationKind.COLLECTIVE and group is not None and not data.get("promoter"):
            # The collective's president (or first member) represents it unless one is named.
            members = group.members.filter(left_on__isnull=True).select_related("person")
            member = members.filter(role=MemberRole.PRESIDENT).first() or members.first()
            if member is None:
                self.add_error("group", _("This collective has no member yet."))
            else:
                data["promoter"] = member.person
        if kind == ApplicationKind.INDIVIDUAL:
            data["group"] = None
        return data


class PublicApplicationForm(PlanFieldsMixin, StyledFormMixin, forms.Form):
    """The public application: who applies, what the project is; nothing enters the registry
    until a field officer registers it."""

    given_name = forms.CharField(label=_("given name"), max_length=150, validators=[validate_name])
    family_name = forms.CharField(
        label=_("family name"), max_length=150, validators=[validate_name]
    )
    sex = forms.ChoiceField(label=_("sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    birth_year = forms.IntegerField(label=_("year of birth"), required=False)
    phone = forms.CharField(
        label=_("phone"), max_length=40, required=False, validators=[validate_single_line]
    )
    email = forms.EmailField(label=_("email"), required=False)
    collective_name = forms.CharField(
        label=_("name of the collective"),
        max_length=200,
        required=False,
        validators=[validate_name],
    )
    role = forms.ChoiceField(
        label=_("your role in the collective"),
        choices=MemberRowForm.base_fields["role"].choices,
        initial=MemberRole.PRESIDENT,
        required=False,
    )
    share = forms.DecimalField(
        label=_("your share (%)"),
        max_digits=5,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    consent = forms.BooleanField(
        label=_(
            "I have read the privacy notice and agree that my data is used to handle this "
            "application."
        ),
        required=False,
    )

    def __init__(self, *args, call: Call, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_plan_fields(call)
        year = timezone.localdate().year
        self.fields["birth_year"].validators += [
            MinValueValidator(year - 110),
            MaxValueValidator(year),
        ]
        _style(self)

    def clean(self):
        data = super().clean()
        if data.get("kind") == ApplicationKind.COLLECTIVE and not data.get("collective_name"):
            self.add_error("collective_name", _("Give the name of the collective."))
        return data

    def submission_data(self, members: list[dict], investments, financing) -> dict:
        data = self.cleaned_data
        result = {
            **self.plan_fields(),
            "sector": data["sector"].code,
            # The promoter's fields, as ``services.PUBLIC_PERSON_FIELDS`` names them.
            "given_name": data["given_name"],
            "family_name": data["family_name"],
            "sex": data["sex"],
            "birth_year": data.get("birth_year"),
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "investments": investments,
            "financing": financing,
        }
        if data["kind"] == ApplicationKind.COLLECTIVE:
            result["collective"] = {
                "name": data["collective_name"],
                "role": data.get("role") or MemberRole.PRESIDENT,
                "share": str(data["share"]) if data.get("share") is not None else None,
                "members": members,
            }
        return result


# --- Pre-check, withdrawal, award -----------------------------------------------------------


class VersionForm(StyledFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PrecheckForm(VersionForm):
    override_reason = forms.CharField(
        label=_("declare eligible anyway, because"),
        max_length=300,
        required=False,
        validators=[validate_plain_text],
        help_text=_("Coordinators only, when something is missing."),
    )


class AwardForm(VersionForm):
    """The financing of a selected application: one amount per kind of financing, and tranches
    (each with its milestone) below."""

    financed_on = forms.DateField(label=_("financed on"), widget=DateInput())
    mentor = UserChoiceField(label=_("mentor"), queryset=User.objects.none(), required=False)
    grant_amount = AmountField(label=_("grant"), required=False)
    grant_description = forms.CharField(
        label=_("what the grant pays for"), max_length=300, required=False
    )
    loan_amount = AmountField(label=_("loan"), required=False)
    loan_instalments = forms.IntegerField(
        label=_("monthly instalments"), required=False, min_value=1, max_value=240
    )
    loan_grace_months = forms.IntegerField(
        label=_("grace period (months)"), required=False, min_value=0, max_value=60, initial=0
    )
    in_kind_amount = AmountField(label=_("support in kind"), required=False)
    in_kind_description = forms.CharField(
        label=_("what is given in kind"), max_length=300, required=False
    )

    def __init__(self, *args, mentors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financed_on"].initial = timezone.localdate()
        self.fields["mentor"].queryset = mentors if mentors is not None else User.objects.none()

    def components(self) -> list[tuple[str, dict]]:
        """(kind, fields) of each component given an amount, in the order grant, loan, in kind."""
        data = self.cleaned_data
        rows = []
        if data.get("grant_amount"):
            rows.append(
                (
                    FinancingKind.GRANT,
                    {"amount": data["grant_amount"], "description": data["grant_description"]},
                )
            )
        if data.get("loan_amount"):
            rows.append(
                (
                    FinancingKind.LOAN,
                    {
                        "amount": data["loan_amount"],
                        "instalments": data.get("loan_instalments"),
                        "grace_months": data.get("loan_grace_months") or 0,
                    },
                )
            )
        if data.get("in_kind_amount"):
            rows.append(
                (
                    FinancingKind.IN_KIND,
                    {
                        "amount": data["in_kind_amount"],
                        "description": data["in_kind_description"],
                    },
                )
            )
        return rows


# --- Public submissions ----------------------------------------------------------------------


class DeclineForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("reason (the applicant reads it)"),
        max_length=500,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


NEW = "new"
SKIP = "skip"


class RegisterForm(StyledFormMixin, forms.Form):
    """Register a public submission: the promoter (and each member of a collective) is a person
    already known, picked among the candidates, or registered now."""

    organisation = forms.ModelChoiceField(
        label=_("register new people for"), queryset=Organisation.objects.none()
    )
    residence = forms.ModelChoiceField(
        label=_("residence of new people"), queryset=Territory.objects.none()
    )
    sector = forms.ModelChoiceField(label=_("sector"), queryset=Sector.objects.none())
    promoter = forms.ChoiceField(
        label=_("promoter"), widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    group = forms.ModelChoiceField(
        label=_("collective already registered"),
        queryset=Group.objects.none(),
        required=False,
        help_text=_("Leave empty to register the collective now."),
    )
    group_kind = forms.ChoiceField(
        label=_("kind of collective"), choices=GroupKind.choices, initial=GroupKind.COOPERATIVE
    )

    def __init__(
        self,
        *args,
        organisations,
        territories,
        sectors,
        promoter_choices,
        member_choices=(),
        groups=None,
        collective=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["residence"].queryset = territories
        self.fields["sector"].queryset = sectors
        self.fields["promoter"].choices = promoter_choices
        self.member_names = []
        for index, (label, choices) in enumerate(member_choices, start=1):
            self.fields[f"member_{index}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.member_names.append(f"member_{index}")
        if collective:
            self.fields["group"].queryset = groups
        else:
            del self.fields["group"]
            del self.fields["group_kind"]


# --- Committee -------------------------------------------------------------------------------


class SessionForm(StyledFormMixin, forms.Form):
    held_on = forms.DateField(label=_("held on"), widget=DateInput())
    place = forms.CharField(
        label=_("place"), max_length=200, required=False, validators=[validate_plain_text]
    )
    language = forms.ChoiceField(label=_("language of the minutes"), choices=settings.LANGUAGES)
    members = UserMultipleChoiceField(
        label=_("members"),
        queryset=User.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    chair = UserChoiceField(label=_("chair"), queryset=User.objects.none())

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = users
        self.fields["chair"].queryset = users
        self.fields["held_on"].initial = timezone.localdate() + datetime.timedelta(days=7)


class RemarksForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("remarks for the minutes"),
        max_length=4000,
        required=False,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DecideForm(StyledFormMixin, forms.Form):
    pass_mark = forms.DecimalField(
        label=_("pass mark (out of 100)"),
        max_digits=5,
        decimal_places=2,
        initial=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )


def programmes_for(user):
    return Programme.objects.visible_to(user).order_by("code")
