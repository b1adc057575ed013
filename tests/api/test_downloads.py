"""Pre-signed downloads: a plain client, streamed with size checks, retries, redaction, decoding."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from airflow_provider_onecodex.api.async_client import AsyncOneCodexClient
from airflow_provider_onecodex.api.config import ClientConfig
from airflow_provider_onecodex.api.downloads import (
    Downloader,
    OneCodexDownloadError,
    OneCodexDownloadSizeError,
    decompress,
    url_secrets,
)
from airflow_provider_onecodex.api.errors import OneCodexResponseError
from airflow_provider_onecodex.api.ops import FetchUrl
from airflow_provider_onecodex.api.records import redact_url
from airflow_provider_onecodex.api.retry import RetryPolicy

SIGNATURE = "X-Amz-Signature=5ec2e75ec2e75ec2e75ec2e7"
URL = f"https://bucket.s3.amazonaws.com/results/file.tsv?X-Amz-Expires=3600&{SIGNATURE}"
BODY = b"tax_id\treads\n562\t300\n" * 50
S3_EXPIRED = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def downloader(sleeps):
    d = Downloader((1.0, 2.0), RetryPolicy(max_attempts=3), sleep=sleeps.append)
    yield d
    d.close()


def test_plain_session_sends_no_one_codex_auth_or_headers(requests_mock, downloader):
    requests_mock.get(URL, content=BODY)
    assert downloader.fetch_bytes(URL) == BODY
    sent = requests_mock.last_request.headers
    assert "Authorization" not in sent and "X-API-Key" not in sent
    assert not any(h.lower().startswith("x-onecodex") for h in sent)
    assert "airflow-provider-onecodex" not in sent.get("User-Agent", "")
    assert sent["Accept-Encoding"] == "identity"  # bytes arrive as stored, sizes comparable
    assert requests_mock.last_request.timeout == (1.0, 2.0)  # the connection's timeouts


def test_download_streams_to_target_with_size_and_sha256(requests_mock, downloader, tmp_path):
    requests_mock.get(URL, content=BODY, headers={"Content-Length": str(len(BODY))})
    target = tmp_path / "file.tsv"
    got = downloader.download(URL, target, expected_size=len(BODY))
    assert target.read_bytes() == BODY
    assert (got.size, got.sha256) == (len(BODY), hashlib.sha256(BODY).hexdigest())


@pytest.mark.parametrize("announced", [len(BODY) - 1, len(BODY) + 1])
def test_size_different_from_the_announced_one_fails_and_removes_the_file(
    requests_mock, downloader, tmp_path, announced
):
    requests_mock.get(URL, content=BODY)
    target = tmp_path / "file.tsv"
    with pytest.raises(OneCodexDownloadSizeError, match=f"announced {announced}|more than the {announced}"):
        downloader.download(URL, target, expected_size=announced)
    assert not target.exists()
    assert requests_mock.call_count == 1  # permanent: not retried


def test_api_size_disagreeing_with_content_length_fails_before_writing(requests_mock, downloader, tmp_path):
    requests_mock.get(URL, content=BODY, headers={"Content-Length": str(len(BODY))})
    with pytest.raises(OneCodexDownloadSizeError, match="Content-Length is"):
        downloader.download(URL, tmp_path / "f", expected_size=len(BODY) + 5)
    assert not (tmp_path / "f").exists()


def test_expired_link_is_refused_without_leaking_the_signature(requests_mock, downloader, tmp_path):
    requests_mock.get(URL, status_code=403, content=S3_EXPIRED)
    with pytest.raises(OneCodexDownloadError) as info:
        downloader.download(URL, tmp_path / "f")
    assert info.value.status == 403 and not info.value.transient
    text = str(info.value)
    assert "AccessDenied" in text and "expired" in text
    assert SIGNATURE not in text and "X-Amz" not in text
    assert "https://bucket.s3.amazonaws.com/results/file.tsv" in text
    assert requests_mock.call_count == 1 and not (tmp_path / "f").exists()


@pytest.mark.parametrize("first", [503, 404])
def test_transient_failures_restart_the_download(requests_mock, downloader, sleeps, tmp_path, first):
    requests_mock.get(URL, [{"status_code": first}, {"content": BODY}])
    got = downloader.download(URL, tmp_path / "f", expected_size=len(BODY))
    assert got.size == len(BODY) and requests_mock.call_count == 2 and len(sleeps) == 1


def test_transient_failures_give_up_after_the_policy(requests_mock, downloader, sleeps):
    requests_mock.get(URL, status_code=502)
    with pytest.raises(OneCodexDownloadError, match="502"):
        downloader.fetch_bytes(URL)
    assert requests_mock.call_count == 3 and len(sleeps) == 2


def test_in_memory_fetch_is_capped(requests_mock, downloader):
    requests_mock.get(URL, content=BODY)
    with pytest.raises(OneCodexDownloadSizeError, match="in-memory limit"):
        downloader.fetch_bytes(URL, max_bytes=10)


@pytest.mark.parametrize("url", ["ftp://host/x", "not a url", "/relative/path"])
def test_bad_urls_are_refused_before_any_request(requests_mock, downloader, url):
    with pytest.raises(ValueError, match="http"):
        downloader.fetch_bytes(url)
    assert requests_mock.call_count == 0


def test_redaction_keeps_scheme_host_and_path_only():
    assert redact_url("https://user:pw@h.example:8443/a/b.tsv?sig=1#frag") == "https://h.example:8443/a/b.tsv"
    assert url_secrets(URL) == [URL, URL.split("?", 1)[1]]


def test_decompress_by_magic_bytes():
    plain = b'{"table": []}'
    assert decompress(plain) == plain
    assert decompress(gzip.compress(plain)) == plain
    with pytest.raises(OneCodexResponseError, match="corrupt gzip"):
        decompress(b"\x1f\x8b" + b"garbage")
    with pytest.raises(OneCodexResponseError, match="more than 4 bytes"):
        decompress(gzip.compress(plain), max_bytes=4)


def test_zstd_bodies_are_decoded_and_cut_ones_refused():
    import zstandard

    plain = b'{"table": []}' * 50
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(plain)
    assert decompress(frame) == plain
    for bad in (frame[:-3], b"\x28\xb5\x2f\xfd" + b"\xff" * 8):
        with pytest.raises(OneCodexResponseError, match="corrupt zstd"):
            decompress(bad)
    with pytest.raises(OneCodexResponseError, match="more than 40 bytes"):
        decompress(frame, max_bytes=40)


# -- the async executor -----------------------------------------------------------------------------


def _fetch(url):
    return (yield FetchUrl(url))


async def test_the_async_executor_fetches_with_the_one_downloader_off_the_event_loop(requests_mock):
    requests_mock.get(URL, content=BODY, headers={"Content-Length": str(len(BODY))})
    config = ClientConfig(api_key="0ddba11c0ffee5ecre7deadbeef12345", base_url="http://onecodex.test")
    async with AsyncOneCodexClient(config) as client:
        assert await client.run(_fetch(URL)) == BODY
        headers = requests_mock.last_request.headers
        assert "Authorization" not in headers and "X-API-Key" not in headers
        requests_mock.get(URL, status_code=403, content=S3_EXPIRED)
        with pytest.raises(OneCodexDownloadError, match="AccessDenied") as info:
            await client.run(_fetch(URL))
    assert SIGNATURE not in str(info.value)
