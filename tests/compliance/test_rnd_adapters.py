"""The RND adapters against recorded responses. The HTTP clients run their
real code down to urllib's opener; only the transport is replaced, by a
handler that checks each request against the recorded one and answers with
the recorded response (no network here; the remote services cannot run in
the suite). The file adapter writes and reads real files."""

import base64
import datetime as dt
import email.message
import io
import json
import urllib.request
import urllib.response
from pathlib import Path

import pytest

from compliance.rnd.adapters import (
    DncComAdapter,
    FileAdapter,
    RecordedAdapter,
    ResultFileError,
    ResultMap,
    RndRequest,
    TwilioLookupAdapter,
    sha256_hex,
)

RECORDED = Path(__file__).with_name("rnd_recorded")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
D = dt.date


def clock():
    return NOW


class Replay(urllib.request.HTTPSHandler):
    """The transport: each request must be the next recorded one."""

    def __init__(self, name: str):
        super().__init__()
        self.exchanges = json.loads((RECORDED / name).read_text())["exchanges"]
        self.sent: list[urllib.request.Request] = []

    def https_open(self, req):
        expected = self.exchanges.pop(0)
        wanted, response = expected["request"], expected["response"]
        assert (req.get_method(), req.full_url) == (wanted["method"], wanted["url"])
        headers = {key.lower(): value for key, value in req.header_items()}
        for key, value in wanted.get("headers", {}).items():
            assert headers[key.lower()] == value
        if "body" in wanted:
            assert json.loads(req.data) == wanted["body"]
        self.sent.append(req)
        body = json.dumps(response["body"]).encode()
        message = email.message.Message()
        for key, value in response["headers"].items():
            message[key] = value
        answer = urllib.response.addinfourl(io.BytesIO(body), message, req.full_url, response["status"])
        answer.msg = "recorded"
        return answer


def test_the_recorded_adapter_answers_the_rnds_way():
    adapter = RecordedAdapter(
        answers={("+12125550109", D(2024, 3, 1)): "no_data"},
        disconnects={"+12125550101": D(2024, 3, 1), "+12125550102": D(2023, 12, 31)},
        clock=clock,
    )
    requests = [
        RndRequest("+12125550101", D(2024, 3, 1)),  # disconnected on the date: yes
        RndRequest("+12125550102", D(2024, 3, 1)),  # disconnected before it: no
        RndRequest("+12125550103", D(2021, 1, 27)),  # unknown, first day of data: no
        RndRequest("+12125550104", D(2021, 1, 26)),  # unknown, earlier: no data
        RndRequest("+12125550109", D(2024, 3, 1)),  # canned
    ]
    results = adapter.query(requests)
    assert [r.answer for r in results] == ["yes", "no", "no", "no_data", "no_data"]
    assert {r.provider for r in results} == {"recorded"} and {r.queried_at for r in results} == {NOW}


def test_the_recorded_adapter_reads_a_disconnect_table(tmp_path):
    table = tmp_path / "disconnects.csv"
    table.write_text("phone_number,last_disconnect\n2125550101,2024-03-01\n+12125550102,2023-12-31\n")
    adapter = RecordedAdapter.from_file(table)
    assert adapter.disconnects == {"+12125550101": D(2024, 3, 1), "+12125550102": D(2023, 12, 31)}
    table.write_text("phone_number,last_disconnect\n2125550101,2024-03-01\n2125550102,03/01/2024\n")
    with pytest.raises(ValueError, match="line 3"):
        RecordedAdapter.from_file(table)


def test_dnc_com_maps_its_encodings():
    replay = Replay("dnc_com_rnd_basic.json")
    adapter = DncComAdapter(login_id="test-login-id", opener=urllib.request.build_opener(replay), clock=clock)
    requests = [
        RndRequest("+12125550101", D(2024, 3, 1)),
        RndRequest("+12125550102", D(2024, 3, 1)),
        RndRequest("+12125550103", D(2020, 1, 15)),
        RndRequest("+12125550104", D(2024, 3, 1)),
        RndRequest("+12125550105", D(2024, 3, 1)),
        RndRequest("+12125550106", D(2024, 3, 1)),  # missing from the answer
    ]
    results = adapter.query(requests)
    assert [r.answer for r in results] == ["yes", "no", "no_data", "yes", "no_data", "error"]
    assert {r.provider_request_id for r in results} == {"dnc-req-7f3a"}
    assert len({r.response_sha256 for r in results}) == 1 and len(replay.sent) == 1


def test_dnc_com_refusal_is_an_error_for_each_number():
    replay = Replay("dnc_com_rnd_basic.json")
    replay.exchanges.pop(0)
    adapter = DncComAdapter(
        login_id="wrong-login-id", opener=urllib.request.build_opener(replay), clock=clock
    )
    [result] = adapter.query([RndRequest("+12125550101", D(2024, 3, 1))])
    assert (result.answer, result.detail) == ("error", "HTTP 401")


def test_dnc_com_sends_at_most_1000_per_call():
    class Count(urllib.request.HTTPSHandler):
        sizes: list[int] = []

        def https_open(self, req):
            numbers = json.loads(req.data)["data"]
            self.sizes.append(len(numbers))
            body = json.dumps(
                [{"PhoneNumber": n["phoneNumber"], "IsReassigned": False} for n in numbers]
            ).encode()
            answer = urllib.response.addinfourl(io.BytesIO(body), email.message.Message(), req.full_url, 200)
            answer.msg = "OK"
            return answer

    adapter = DncComAdapter(login_id="x", opener=urllib.request.build_opener(Count()), clock=clock)
    requests = [RndRequest(f"+1212555{n:04d}", D(2024, 3, 1)) for n in range(2500)]
    assert {r.answer for r in adapter.query(requests)} == {"no"}
    assert Count.sizes == [1000, 1000, 500]


def test_twilio_maps_its_encodings():
    replay = Replay("twilio_lookup_reassigned.json")
    adapter = TwilioLookupAdapter(
        account_sid="AC123", auth_token="secret", opener=urllib.request.build_opener(replay), clock=clock
    )
    requests = [
        RndRequest("+12125550111", D(2024, 3, 1)),
        RndRequest("+12125550112", D(2024, 3, 1)),
        RndRequest("+12125550113", D(2020, 1, 15)),
        RndRequest("+12125550114", D(2024, 3, 1)),  # error_code set
        RndRequest("+12125550115", D(2024, 3, 1)),  # 404
    ]
    results = adapter.query(requests)
    assert [r.answer for r in results] == ["yes", "no", "no_data", "error", "error"]
    assert results[0].provider_request_id == "RQ00000000000000000000000000000001"
    assert results[3].detail == "Twilio error 60617" and results[4].detail == "HTTP 404"
    authorization = replay.sent[0].get_header("Authorization")
    assert authorization == "Basic " + base64.b64encode(b"AC123:secret").decode()


# --- files ------------------------------------------------------------------------------

CUSTOM = ResultMap(
    number_column="Phone",
    date_column="Date Provided",
    answer_column="Result",
    update_column="Update",
    date_format="%m/%d/%Y",
    values={"Y": "yes", "N": "no", "ND": "no_data"},
)


def _adapter(tmp_path, **extra):
    return FileAdapter(outbox=tmp_path / "out", inbox=tmp_path / "in", clock=clock, **extra)


def test_upload_files_hold_at_most_the_limit_and_are_not_written_twice(tmp_path):
    adapter = _adapter(tmp_path, file_max=2)
    requests = [RndRequest(f"+121255501{n:02d}", D(2024, 3, 1)) for n in range(5)]
    assert adapter.query(requests) == []
    files = sorted((tmp_path / "out").glob("rnd-upload-*.csv"))
    assert [len(f.read_text().splitlines()) for f in files] == [2, 2, 1]
    assert files[0].read_text().splitlines()[0] == "2125550100,2024-03-01"
    assert adapter.query(requests) == []  # waiting for results: nothing new
    assert len(list((tmp_path / "out").glob("rnd-upload-*.csv"))) == 3


def test_result_files_are_read_through_the_map_batch_by_batch(tmp_path):
    adapter = _adapter(tmp_path, result_map=CUSTOM, file_max=2)
    requests = [RndRequest(f"+121255501{n:02d}", D(2024, 3, 1)) for n in range(3)]
    adapter.query(requests)
    first, second = sorted(p.stem for p in (tmp_path / "out").glob("rnd-upload-*.csv"))
    (tmp_path / "in").mkdir()
    result = tmp_path / "in" / f"{first}.result.csv"
    result.write_text(
        "Phone,Date Provided,Result,Update\n2125550100,03/01/2024,Y,2026-10\n2125550101,03/01/2024,ND,2026-10\n"
    )
    found = adapter.query(requests)
    assert [(r.number, r.answer, r.rnd_update, r.provider_request_id) for r in found] == [
        ("+12125550100", "yes", "2026-10", first),
        ("+12125550101", "no_data", "2026-10", first),
    ]
    assert found[0].response_sha256 == sha256_hex((tmp_path / "in" / "done" / result.name).read_bytes())
    # The first batch is done; the second still waits, and is not written again.
    assert sorted(p.stem for p in (tmp_path / "out").glob("rnd-upload-*.csv")) == [second]
    assert adapter.query(requests) == []


def test_a_bad_result_file_is_rejected_whole_with_its_line_named(tmp_path):
    adapter = _adapter(tmp_path, result_map=CUSTOM)
    requests = [RndRequest(f"+121255501{n:02d}", D(2024, 3, 1)) for n in range(3)]
    adapter.query(requests)
    [batch] = [p.stem for p in (tmp_path / "out").glob("rnd-upload-*.csv")]
    (tmp_path / "in").mkdir()
    result = tmp_path / "in" / f"{batch}.result.csv"
    result.write_text(
        "Phone,Date Provided,Result,Update\n2125550100,03/01/2024,Y,\n2125550101,03/01/2024,MAYBE,\n2125550102,03/01/2024,N,\n"
    )
    with pytest.raises(ResultFileError, match=rf"{batch}.result.csv: line 3: unknown answer 'MAYBE'"):
        adapter.query(requests)
    assert result.exists() and (tmp_path / "out" / f"{batch}.csv").exists()  # nothing taken, nothing moved
    result.write_text("Phone,Date Provided,Result,Update\n2125550100,2024-03-01,Y,\n")
    with pytest.raises(ResultFileError, match="line 2: time data"):
        adapter.query(requests)
    result.write_text("Phone,Result\n2125550100,Y\n")
    with pytest.raises(ResultFileError, match=r"line 1: missing columns \['Date Provided', 'Update'\]"):
        adapter.query(requests)


def test_the_result_map_setting_is_checked():
    from django.core.exceptions import ImproperlyConfigured

    assert ResultMap.from_setting({"answer_column": "R"}).answer_column == "R"
    with pytest.raises(ImproperlyConfigured, match="unknown keys"):
        ResultMap.from_setting({"answer_colum": "R"})
    with pytest.raises(ImproperlyConfigured, match="unknown answers"):
        ResultMap.from_setting({"values": {"Y": "reassigned"}})
