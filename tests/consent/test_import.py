"""The CSV import of customers: the whole file is checked first, one bad row
imports nothing (unless --skip-invalid), and every write leaves history."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from consent import importer
from consent.importer import customers_import
from consent.models import ConsentGrant
from consent.services import suppression_add
from customers.models import Customer, PhoneNumber
from tests.factories import PhoneNumberFactory, UserFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/customers/customer/import/"

HEADER = [*importer.REQUIRED_COLUMNS, *importer.CONSENT_COLUMNS]
CONSENT = {
    "consent_purpose": "marketing",
    "consent_channel": "voice",
    "consent_written": "yes",
    "consent_source": "signed_form",
    "consent_disclosure_text": "I agree to receive autodialed marketing calls from Northwind.",
    "consent_granted_at": "2025-06-01T10:00:00-04:00",
}


def customer_row(number: str = "+13055550123", **fields) -> dict:
    row = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "state": "FL",
        "postal_code": "33101",
        "phone_number": number,
        "phone_kind": "mobile",
    }
    return {**row, **fields}


def csv_text(*rows: dict, header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def good_file() -> str:
    return csv_text(
        customer_row("(305) 555-0123", **CONSENT),
        customer_row(
            "212.555.0187",
            first_name="Grace",
            last_name="Hopper",
            email="grace@example.com",
            state="NY",
            postal_code="10001",
            phone_kind="landline",
        ),
        customer_row("+1 312 555 0150", first_name="Alan", state="il", postal_code="60601", phone_kind=""),
    )


def run(text: str, *, by=None, **options):
    return customers_import(file=io.StringIO(text, newline=""), source_name="customers.csv", by=by, **options)


def nothing_written() -> bool:
    return not (Customer.objects.exists() or PhoneNumber.objects.exists() or ConsentGrant.objects.exists())


@pytest.fixture(params=["copy", "orm"])
def write_path(request, monkeypatch):
    """Both ways of writing: COPY on PostgreSQL, and the ORM's
    history_bulk_create that other databases use."""
    monkeypatch.setattr(importer, "COPY_ENABLED", request.param == "copy")
    return request.param


def test_good_file_imports_customers_numbers_consents_and_history_naming_the_user(write_path, manager):
    report = run(good_file(), by=manager)

    assert report.errors == []
    assert (report.rows, report.customers, report.phone_numbers, report.consents) == (3, 3, 3, 1)
    ada = Customer.objects.get(first_name="Ada")
    assert (ada.last_name, ada.email, ada.state, ada.postal_code) == (
        "Lovelace",
        "ada@example.com",
        "FL",
        "33101",
    )
    assert ada.created_at is not None
    phone = ada.phone_numbers.get()
    assert (str(phone.number), phone.kind) == ("+13055550123", "mobile")
    grant = phone.consents.get()
    assert (grant.purpose, grant.channel, grant.written, grant.source) == (
        "marketing",
        "voice",
        True,
        "signed_form",
    )
    assert grant.granted_at.isoformat() == "2025-06-01T14:00:00+00:00"
    assert grant.disclosure_text == CONSENT["consent_disclosure_text"]
    assert grant.evidence["import_file"] == "customers.csv"
    assert grant.evidence["import_line"] == 2
    assert grant.recorded_by == manager
    assert grant.revoked_at is None
    assert Customer.objects.get(first_name="Alan").state == "IL"
    assert PhoneNumber.objects.get(number="+13125550150").kind == "unknown"

    for model, count in ((Customer, 3), (PhoneNumber, 3), (ConsentGrant, 1)):
        history = model.history.all()
        assert history.count() == count
        assert {(h.history_type, h.history_user, h.history_change_reason) for h in history} == {
            ("+", manager, "import customers.csv")
        }
    history = ada.history.get()
    assert (history.first_name, history.email, history.created_at) == ("Ada", ada.email, ada.created_at)
    assert phone.history.get().customer_id == ada.pk
    assert grant.history.get().evidence == grant.evidence


def test_numbers_in_any_format_are_stored_e164():
    formats = [
        "(305) 555-0101",
        "305-555-0102",
        "305.555.0103",
        "+1 305 555 0104",
        "1-305-555-0105",
        "3055550106",
    ]
    report = run(csv_text(*(customer_row(number) for number in formats)))
    assert report.errors == []
    assert sorted(str(n) for n in PhoneNumber.objects.values_list("number", flat=True)) == [
        f"+1305555010{i}" for i in range(1, 7)
    ]


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        ({"phone_number": "555-01"}, "phone_number", "not a valid, dialable phone number"),
        ({"phone_number": "hello"}, "phone_number", "is not a phone number"),
        ({"phone_number": ""}, "phone_number", "Enter a phone number"),
        ({"state": "XX"}, "state", "Value 'XX' is not a valid choice"),
        ({"postal_code": "3310"}, "postal_code", "Enter a US ZIP code"),
        ({"postal_code": "10001"}, "postal_code", "ZIP 10001 is in NY, not FL"),
        ({"postal_code": "00000"}, "postal_code", "not a known US ZIP code"),
        ({"email": "ada at example"}, "email", "Enter a valid email address"),
        ({"first_name": ""}, "first_name", "This field cannot be blank"),
        ({"last_name": "Love\x00lace"}, "last_name", "Contains a NUL character"),
        ({"phone_kind": "pager"}, "phone_kind", "'pager' is not one of mobile, landline, voip, unknown"),
        ({**CONSENT, "consent_purpose": "sales"}, "consent_purpose", "Use one of: marketing, informational"),
        ({**CONSENT, "consent_channel": "fax"}, "consent_channel", "not a valid choice"),
        ({**CONSENT, "consent_written": "maybe"}, "consent_written", "'maybe' is not true/false"),
        ({**CONSENT, "consent_source": "rumour"}, "consent_source", "Use one of: web_form, signed_form"),
        ({**CONSENT, "consent_granted_at": "2025-06-01T10:00:00"}, "consent_granted_at", "has no UTC offset"),
        ({**CONSENT, "consent_granted_at": "June 1st"}, "consent_granted_at", "is not an ISO 8601"),
        (
            {**CONSENT, "consent_granted_at": "2999-01-01T00:00:00+00:00"},
            "consent_granted_at",
            "in the future",
        ),
        ({**CONSENT, "consent_disclosure_text": ""}, "consent_disclosure_text", "fill every consent column"),
        ({"consent_source": "web_form"}, "consent_purpose", "fill every consent column or none"),
    ],
)
def test_one_bad_row_changes_nothing_and_the_report_names_line_column_and_message(bad, column, message):
    text = csv_text(
        customer_row("+13055550101"),
        customer_row("+13055550102", **CONSENT),
        customer_row("+13055550103", **bad),
        customer_row("+13055550104"),
    )
    report = run(text)

    assert nothing_written()
    assert (report.customers, report.rejected_rows) == (0, 1)
    assert [(e.line, e.column) for e in report.errors if e.column == column] == [(4, column)]
    assert any(message in e.message for e in report.errors if e.column == column), report.errors


def test_a_number_twice_in_the_file_or_already_on_file_is_a_bad_row():
    PhoneNumberFactory(number="+12125550100")
    text = csv_text(
        customer_row("+13055550101"),
        customer_row("305-555-0101", first_name="Twin"),
        customer_row("(212) 555-0100", state="NY", postal_code="10001"),
    )
    report = run(text)

    assert Customer.objects.count() == 1  # the factory's
    assert report.errors == [
        importer.RowError(3, "phone_number", "+13055550101 is also on line 2."),
        importer.RowError(4, "phone_number", "+12125550100 already belongs to a customer."),
    ]


def test_the_number_of_an_erased_person_cannot_come_back_through_an_import():
    suppression_add(e164="+13055550102", source="erasure", reason="GDPR art. 17 request")
    report = run(csv_text(customer_row("+13055550101"), customer_row("305 555 0102")))
    assert nothing_written()
    assert [(e.line, e.column) for e in report.errors] == [(3, "phone_number")]
    assert "erased person" in report.errors[0].message


def test_every_bad_row_is_reported_also_after_the_first_chunk(write_path):
    rows = [customer_row(f"+1305555{i:04d}") for i in range(100, 130)]
    rows[3]["state"] = "ZZ"
    rows[25]["phone_number"] = "12"
    report = run(csv_text(*rows), chunk_size=10)

    assert nothing_written()
    assert [(e.line, e.column) for e in report.errors] == [(5, "state"), (27, "phone_number")]
    assert report.valid_rows == 28


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(write_path, manager):
    rows = [customer_row(f"+1305555{i:04d}") for i in range(100, 130)]
    rows[3]["state"] = "ZZ"
    rows[25]["phone_number"] = "12"
    report = run(csv_text(*rows), by=manager, skip_invalid=True, chunk_size=10)

    assert [(e.line, e.column) for e in report.errors] == [(5, "state"), (27, "phone_number")]
    assert (report.customers, report.phone_numbers, report.rejected_rows) == (28, 28, 2)
    assert Customer.objects.count() == 28
    assert Customer.history.filter(history_user=manager).count() == 28
    assert not PhoneNumber.objects.filter(number="+13055550103").exists()


def test_dry_run_checks_everything_and_writes_nothing():
    PhoneNumberFactory(number="+13055550102")
    report = run(csv_text(customer_row("+13055550101"), customer_row("+13055550102")), dry_run=True)
    assert [(e.line, e.column) for e in report.errors] == [(3, "phone_number")]
    assert report.valid_rows == 1
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        ([c for c in importer.REQUIRED_COLUMNS if c != "phone_number"], "phone_number", "is missing"),
        ([*importer.REQUIRED_COLUMNS, "notes"], "notes", "Unknown column 'notes'"),
        ([*importer.REQUIRED_COLUMNS, "phone_kind"], "phone_kind", "appears more than once"),
        ([*importer.REQUIRED_COLUMNS, "consent_purpose"], "consent_source", "Consent columns come together"),
    ],
)
def test_a_bad_header_is_rejected_and_nothing_is_written(header, column, message):
    report = run(csv_text(customer_row(), header=header), skip_invalid=True)
    assert nothing_written()
    assert report.file_rejected
    assert any(e.line == 1 and e.column == column and message in e.message for e in report.errors), (
        report.errors
    )


def test_consent_columns_are_optional_and_header_case_and_bom_are_forgiven():
    text = "\ufeff" + csv_text(customer_row(), header=list(importer.REQUIRED_COLUMNS)).replace(
        "first_name", "First_Name", 1
    )
    report = run(text)
    assert report.errors == []
    assert Customer.objects.get().first_name == "Ada"


def test_a_row_with_too_many_or_too_few_fields_is_a_bad_row():
    text = csv_text(customer_row("+13055550101"), header=list(importer.REQUIRED_COLUMNS))
    text += "Bo,Diddley,bo@example.com,FL,33101,+13055550102,mobile,extra\nCy,Short\n"
    report = run(text)
    assert nothing_written()
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "The row has 8 fields; the header has 7."),
        (4, "The row has fewer fields than the header."),
    ]


def test_an_empty_file_is_rejected():
    report = run("")
    assert report.file_rejected
    assert report.errors[0].message.startswith("The file is empty")


def test_a_file_that_is_not_utf8_is_rejected_with_its_line(tmp_path):
    data = csv_text(customer_row("+13055550101"), customer_row("+13055550102", last_name="Müller")).encode(
        "latin-1"
    )
    source = tmp_path / "latin1.csv"
    source.write_bytes(data)
    with pytest.raises(CommandError, match="was rejected; nothing was imported"):
        call_command(
            "import_customers", str(source), "--skip-invalid", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert nothing_written()


# --- the command -------------------------------------------------------------------


def write_csv(tmp_path, text: str, name: str = "customers.csv"):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return str(source)


def test_command_imports_prints_counts_and_records_the_named_user(tmp_path, manager):
    out = io.StringIO()
    call_command("import_customers", write_csv(tmp_path, good_file()), "--user", manager.username, stdout=out)
    assert "3 row(s) read, 3 valid, 0 rejected" in out.getvalue()
    assert "Imported 3 customer(s), 3 phone number(s), 1 consent(s)" in out.getvalue()
    assert ConsentGrant.objects.get().recorded_by == manager
    assert set(Customer.history.values_list("history_user", "history_change_reason")) == {
        (manager.pk, "import customers.csv")
    }


def test_command_without_user_records_no_user(tmp_path):
    call_command("import_customers", write_csv(tmp_path, good_file()), stdout=io.StringIO())
    assert set(PhoneNumber.history.values_list("history_user", flat=True)) == {None}
    assert ConsentGrant.objects.get().recorded_by is None


def test_command_with_a_bad_row_exits_non_zero_names_the_row_and_imports_nothing(tmp_path):
    text = csv_text(customer_row("+13055550101"), customer_row("+13055550102", state="XX"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_customers", write_csv(tmp_path, text), stdout=io.StringIO(), stderr=err)
    assert "line 3, state: Value 'XX' is not a valid choice." in err.getvalue()
    assert nothing_written()


def test_command_skip_invalid_imports_the_rest_and_exits_zero(tmp_path):
    text = csv_text(customer_row("+13055550101"), customer_row("+13055550102", state="XX"))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_customers", write_csv(tmp_path, text), "--skip-invalid", stdout=out, stderr=err)
    assert "2 row(s) read, 1 valid, 1 rejected" in out.getvalue()
    assert "line 3, state" in err.getvalue()
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == ["+13055550101"]


def test_command_refuses_an_unknown_user_or_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("import_customers", write_csv(tmp_path, good_file()), "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot open"):
        call_command("import_customers", str(tmp_path / "missing.csv"))
    assert nothing_written()


# --- the admin upload ------------------------------------------------------------


def upload(client, text: str, **options):
    data = {"file": SimpleUploadedFile("crm-export.csv", text.encode(), content_type="text/csv")}
    data.update({name: "on" for name, on in options.items() if on})
    return client.post(IMPORT_URL, data)


def test_manager_uploads_a_file_in_the_admin(client, manager):
    assert reverse("admin:customers_customer_import") == IMPORT_URL
    client.force_login(manager)
    assert f'href="{IMPORT_URL}"' in client.get("/admin/customers/customer/").content.decode()
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()

    response = upload(client, good_file())
    assert response.status_code == 200
    assert response.context["report"].customers == 3
    assert "Imported from crm-export.csv" in response.content.decode()
    assert (
        Customer.history.filter(history_user=manager, history_change_reason="import crm-export.csv").count()
        == 3
    )
    assert ConsentGrant.objects.get().recorded_by == manager


def test_admin_upload_with_a_bad_row_shows_the_report_and_imports_nothing(client, manager):
    client.force_login(manager)
    text = csv_text(customer_row("+13055550101"), customer_row("305-555-01", first_name="Bad"))
    response = upload(client, text)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported from crm-export.csv" in body
    assert "<td>3</td><td>phone_number</td>" in body
    assert nothing_written()

    response = upload(client, text, skip_invalid=True)
    assert response.context["report"].customers == 1
    assert Customer.objects.count() == 1


def test_admin_dry_run_writes_nothing(client, manager):
    client.force_login(manager)
    response = upload(client, good_file(), dry_run=True)
    assert response.context["report"].valid_rows == 3
    assert "Dry run of crm-export.csv" in response.content.decode()
    assert nothing_written()


@pytest.mark.parametrize("persona", ["agent", "compliance_officer"])
def test_staff_without_permission_to_add_customers_get_403(client, request, persona):
    user = request.getfixturevalue(persona)
    user.is_staff = True  # past the admin's own gate, so that the view's check is what refuses
    user.save()
    login_with_otp(client, user)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, good_file()).status_code == 403
    assert nothing_written()


def test_agent_is_sent_to_the_admin_login(client, agent):
    client.force_login(agent)
    response = upload(client, good_file())
    assert response.status_code == 302
    assert "/admin/login/" in response.url
    assert nothing_written()


def test_user_who_may_not_record_consents_cannot_import_them(client):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="add_customer"))
    client.force_login(clerk)
    response = upload(client, good_file())
    assert response.context["report"].file_rejected
    assert "You may not record consents" in response.content.decode()
    assert nothing_written()

    response = upload(client, csv_text(customer_row(), header=list(importer.REQUIRED_COLUMNS)))
    assert response.context["report"].customers == 1
