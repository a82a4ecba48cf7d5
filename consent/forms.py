from django import forms
from django.core.exceptions import ValidationError

from consent.models import Channel, ConsentGrant, Purpose
from core.phones import phone_normalize
from customers.selectors import phone_number_get


class PhoneField(forms.CharField):
    """A number in any format, cleaned to E.164."""

    def clean(self, value):
        value = super().clean(value)
        return phone_normalize(value) if value else value


class ConsentRecordForm(forms.ModelForm):
    """ "Record opt-in": the consent and the evidence that proves it (GDPR 7(1))."""

    phone = PhoneField(label="Phone number", help_text="Any format; it must belong to a customer.")
    purpose = forms.ChoiceField(choices=Purpose.choices)
    channel = forms.ChoiceField(choices=Channel.choices)
    disclosure_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The exact words the person saw or heard when consenting.",
    )
    ip = forms.GenericIPAddressField(label="IP address", required=False)
    user_agent = forms.CharField(required=False)
    form_reference = forms.CharField(required=False, help_text="Web form URL or signed form id.")
    recording_reference = forms.CharField(required=False, help_text="Call or IVR recording id.")

    class Meta:
        model = ConsentGrant
        fields = ["purpose", "channel", "written", "source", "granted_at", "expires_at"]

    def clean_phone(self):
        phone = phone_number_get(e164=self.cleaned_data["phone"])
        if phone is None:
            raise ValidationError("No customer has this number; create the customer first.")
        return phone

    def evidence(self) -> dict:
        data = self.cleaned_data
        evidence = {"disclosure_text": data["disclosure_text"]}
        for key in ("ip", "user_agent", "form_reference", "recording_reference"):
            if data.get(key):
                evidence[key] = data[key]
        return evidence


class OptOutForm(forms.Form):
    """ "Record opt-out": revokes every consent of the number and files a DNC request."""

    phone = PhoneField(
        label="Phone number", help_text="Any format. The number need not belong to a customer."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="What the person said, and how.", required=True
    )


class OptOutNoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="What the person said, and how.", required=True
    )
