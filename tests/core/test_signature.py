from core.signature import sign, verify

BODY = b'{"event":{"event_type":"incident.acknowledged"}}'


def test_signature_is_hmac_sha256_of_the_raw_body():
    assert sign("s3cret", BODY) == "v1=" + __import__("hmac").new(b"s3cret", BODY, "sha256").hexdigest()


def test_one_matching_signature_among_several_is_enough():
    assert verify("s3cret", BODY, f"v1=deadbeef, {sign('s3cret', BODY)}")


def test_wrong_missing_or_unset_signatures_are_refused():
    assert not verify("s3cret", BODY, sign("other", BODY))
    assert not verify("s3cret", BODY + b" ", sign("s3cret", BODY))
    assert not verify("s3cret", BODY, None)
    assert not verify("", BODY, sign("", BODY))
    assert not verify(None, BODY, "v1=")
