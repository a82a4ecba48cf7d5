from django import forms


class TotpCodeForm(forms.Form):
    """The six digits an authenticator app shows (spaces allowed)."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code
