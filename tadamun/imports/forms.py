from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from tadamun.core.forms import StyledFormMixin
from tadamun.organisations.models import Organisation

from .models import ImportKind
from .parsing import ENCODING_CHOICES, MAX_ROWS


class ImportUploadForm(StyledFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("import for"), queryset=Organisation.objects.none()
    )
    kind = forms.ChoiceField(
        label=_("what the file holds"), choices=ImportKind.choices, initial=ImportKind.PEOPLE
    )
    file = forms.FileField(
        label=_("file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )
    encoding = forms.ChoiceField(
        label=_("characters (CSV only)"),
        choices=ENCODING_CHOICES,
        required=False,
        help_text=_("Leave on automatic unless the preview shows garbled letters."),
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV or Excel (.xlsx), with the columns of the template in its first row; up to "
            "%(rows)s rows."
        ) % {"rows": formats.number_format(MAX_ROWS, force_grouping=True)}
        self.fields["organisation"].queryset = organisations
        if organisations is not None and organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()
        if len(ImportKind.choices) == 1:
            self.fields["kind"].widget = forms.HiddenInput()
