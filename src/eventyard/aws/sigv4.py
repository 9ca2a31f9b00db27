"""AWS Signature Version 4, checked on the server side.

With ``--require-auth`` every request must carry an ``Authorization:
AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
SignedHeaders=..., Signature=...`` header that the endpoint can recompute
with the secret of that access key (the algorithm of
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
an unknown or missing key is ``InvalidClientTokenId``, a signature that does
not match (wrong secret, a changed body or header, a date more than 15
minutes off) is ``SignatureDoesNotMatch``. Without ``--require-auth`` any
credentials are accepted, as LocalStack does.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import parse_qsl, quote, unquote

from eventyard.aws.errors import AwsError

ALGORITHM: Final = "AWS4-HMAC-SHA256"
MAX_SKEW: Final = datetime.timedelta(minutes=15)
_HEADER: Final = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


def credential_scope_service(authorization: str | None) -> str | None:
    """The service a signed request names (``sqs``, ``sns``, ``events``), if any."""
    if not authorization:
        return None
    match = _HEADER.match(authorization)
    if match is None:
        return None
    parts = match["credential"].split("/")
    return parts[3] if len(parts) == 5 else None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def verify(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: datetime.datetime,
) -> str:
    """Check a request's signature; the access key id that signed it."""
    authorization = headers.get("authorization")
    if not authorization:
        raise AwsError(
            "InvalidClientTokenId", "the request is not signed (no Authorization header)"
        )
    match = _HEADER.match(authorization)
    if match is None:
        raise AwsError(
            "IncompleteSignature", "the Authorization header is not an AWS4-HMAC-SHA256 signature"
        )
    credential = match["credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        raise AwsError("IncompleteSignature", f"malformed credential {match['credential']!r}")
    access_key, date, region, service, _ = credential
    secret = credentials.get(access_key)
    if secret is None:
        raise AwsError(
            "InvalidClientTokenId", f"the access key id {access_key!r} is not known here"
        )
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.UTC
        )
    except ValueError:
        raise AwsError("IncompleteSignature", "X-Amz-Date is missing or malformed") from None
    if abs(now - signed_at) > MAX_SKEW:
        raise AwsError(
            "SignatureDoesNotMatch",
            f"the signature was made at {amz_date}, more than 15 minutes from the server's clock",
        )
    signed_headers = match["headers"].split(";")
    canonical = canonical_request(
        method, raw_path, query_string, headers, signed_headers, _payload_hash(headers, body)
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request"
    )
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise AwsError(
            "SignatureDoesNotMatch",
            "the request signature we calculated does not match the signature you provided; "
            "check your secret access key and signing method",
        )
    return access_key


def _payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    declared = headers.get("x-amz-content-sha256")
    if declared and declared != "UNSIGNED-PAYLOAD":
        return hashlib.sha256(body).hexdigest()  # never trust the declared hash itself
    if declared == "UNSIGNED-PAYLOAD":
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    path = quote(unquote(raw_path or "/"), safe="/~")
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(query_string, keep_blank_values=True)
    )
    query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed_headers]
    return "\n".join([method, path, query, *lines, "", ";".join(signed_headers), payload_hash])
