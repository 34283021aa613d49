from django import forms


class StyledFormMixin:
    """Give widgets Bootstrap classes, and say which field an error belongs to (aria)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            if hasattr(widget, "widgets"):
                for sub in widget.widgets:
                    sub.attrs["class"] = (sub.attrs.get("class", "") + " form-control mb-1").strip()
            else:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def add_error(self, field, error):
        # Fields are marked as their errors arrive, from validation or from a view afterwards.
        # Reading self.errors in __init__ would validate the form there, before a subclass has
        # set its querysets: every choice among them would then be refused. Django itself
        # adds aria-invalid to a field with errors.
        super().add_error(field, error)
        for name in self._errors or ():
            widget = self.fields[name].widget if name in self.fields else None
            if widget is not None and "is-invalid" not in widget.attrs.get("class", "").split():
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
