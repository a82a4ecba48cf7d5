from django_otp import DEVICE_ID_SESSION_KEY

from tests.otp import login_with_otp, totp_code


def test_login_with_otp_marks_the_session_verified(client, compliance_officer):
    device = login_with_otp(client, compliance_officer)

    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert device.verify_token(totp_code(device))
