from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tadamun.core.forms import DateInput, StyledFormMixin
from tadamun.organisations.models import Organisation
from tadamun.territories.models import Territory

from .models import Consent, Group, GroupMember, MemberRole, Person
from .services import validate_birth

LANGUAGE_CHOICES = [
    ("ar", _("Arabic")),
    ("fr", _("French")),
    ("it", _("Italian")),
    ("el", _("Greek")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("de", _("German")),
    ("ber", _("Berber")),
]


def territory_choices():
    return Territory.objects.order_by("path").only("pk", "name", "depth", "code")


class TerritoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "\u2003" * obj.depth + str(obj)


class PersonForm(StyledFormMixin, forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("registered by"), queryset=Organisation.objects.none()
    )
    residence = TerritoryChoiceField(
        label=_("territory of residence"), queryset=Territory.objects.none(), required=False
    )
    languages = forms.MultipleChoiceField(
        label=_("languages spoken"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    class Meta:
        model = Person
        fields = [
            "given_name",
            "family_name",
            "given_name_latin",
            "family_name_latin",
            "sex",
            "birth_date",
            "birth_year",
            "phone",
            "email",
            "address",
            "document_type",
            "document_number",
            "residence",
            "languages",
        ]
        widgets = {"birth_date": DateInput(), "address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["residence"].queryset = territory_choices()
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
            if organisations.count() == 1:
                self.fields["organisation"].initial = organisations.first()
            self.order_fields(["organisation", *self.Meta.fields])

    def clean(self):
        """Run the service's birth-date rule now too, so that a date in the future shows next
        to its field together with the form's other errors, not after they are fixed."""
        cleaned = super().clean()
        birth = {k: cleaned.get(k) for k in ("birth_date", "birth_year") if cleaned.get(k)}
        if birth:
            try:
                validate_birth(Person(**birth))
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(field, messages)
        return cleaned

    def clean_birth_year(self):
        year = self.cleaned_data.get("birth_year")
        if year is not None and not (1900 <= year <= 2100):
            raise forms.ValidationError(_("The year of birth must be between 1900 and this year."))
        return year


class ConsentForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["purpose", "lawful_basis", "given_on", "note"]
        widgets = {"given_on": DateInput()}


class GroupForm(StyledFormMixin, forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("registered by"), queryset=Organisation.objects.none()
    )
    territory = TerritoryChoiceField(
        label=_("territory"), queryset=Territory.objects.none(), required=False
    )

    class Meta:
        model = Group
        fields = ["name", "kind", "territory"]

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = territory_choices()
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
            self.order_fields(["organisation", "name", "kind", "territory"])


class GroupMemberForm(StyledFormMixin, forms.ModelForm):
    person = forms.ModelChoiceField(
        label=_("person"),
        queryset=Person.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": _("Search for the person and pick them in the list.")},
    )
    role = forms.ChoiceField(label=_("role"), choices=MemberRole.choices)

    class Meta:
        model = GroupMember
        fields = ["person", "role", "share", "joined_on"]
        widgets = {"joined_on": DateInput()}

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people

    def _get_validation_exclusions(self):
        """Leave the share's constraint to the service, whose message says what is wrong (the
        model's own check would only name the constraint)."""
        return super()._get_validation_exclusions() | {"share"}
