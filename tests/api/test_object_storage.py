"""Evidence on object storage: with ``AWS_STORAGE_BUCKET_NAME`` the files go to a private bucket
of an S3-API server (moto's, started here), are streamed back through the access-checked views
with Range support, and no address of the bucket, public or presigned, ever leaves the server.

(The whole evidence and intake suites also run on a bucket: ``--evidence-storage=s3``, a stage of
scripts/test.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.demo_media import make_photo, make_video
from cases.models import Evidence, evidence_storage
from tests.conftest import S3_CREDENTIALS, make_bucket, s3_storages, stored_evidence
from tests.factories import open_case, run

pytestmark = [pytest.mark.s3, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bucket(s3_endpoint, settings) -> str:
    name = make_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, **s3_storages(s3_endpoint, name)}
    return name


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
        region_name=S3_CREDENTIALS["region_name"],
    )


@pytest.fixture
def claim(system_actor):
    return run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)


def _upload(api, case, name: str, data: bytes) -> dict:
    response = api.post(
        f"/api/v1/cases/{case.reference}/evidence/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_settings_put_evidence_in_the_bucket_named_by_the_environment():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "SECRET_KEY": "probe-" + "x" * 40,
        "AWS_STORAGE_BUCKET_NAME": "seller-evidence",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LOCATION": "prod",
    }
    probe = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    storages = json.loads(done.stdout.strip().splitlines()[-1])
    assert storages["evidence"] == {
        "BACKEND": "cases.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": "seller-evidence",
            "endpoint_url": "http://127.0.0.1:9",
            "region_name": None,
            "location": "prod/evidence",
        },
    }
    assert storages["default"]["OPTIONS"]["location"] == "prod/files"


def test_evidence_is_stored_in_the_bucket_and_streamed_back(api, claim, bucket, s3):
    # given a photo uploaded through the API
    data = make_photo("on object storage", size=(320, 240))
    body = _upload(api, claim, "IMG_0002.jpg", data)
    evidence = Evidence.objects.get(pk=body["id"])
    # then the cleaned file is an object of the bucket, under the evidence folder
    key = f"evidence/{evidence.file.name}"
    assert [str(p) for p in stored_evidence()] == [key]
    stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored.startswith(b"\xff\xd8") and len(stored) == evidence.stored_size_bytes
    # and downloading it streams the object (a ranged GET read in chunks)
    path = body["download_url"].removeprefix("http://testserver")
    whole = api.get(path)
    assert whole.status_code == 200 and whole.streaming
    assert b"".join(whole.streaming_content) == stored
    assert whole["Content-Length"] == str(len(stored))
    # and a Range request gets exactly those bytes
    part = api.get(path, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(stored)}"
    assert b"".join(part.streaming_content) == stored[100:200]
    suffix = api.get(path, HTTP_RANGE="bytes=-50")
    assert b"".join(suffix.streaming_content) == stored[-50:]
    assert api.get(path, HTTP_RANGE=f"bytes={len(stored)}-").status_code == 416


def test_a_video_seeks_through_ranges(api, claim, bucket):
    body = _upload(api, claim, "clip.mp4", make_video(seconds=1.0))
    path = body["download_url"].removeprefix("http://testserver")
    whole = b"".join(api.get(path).streaming_content)
    pieces = []
    for start in range(0, len(whole), 4096):
        answer = api.get(path, HTTP_RANGE=f"bytes={start}-{start + 4095}")
        assert answer.status_code == 206
        pieces.append(b"".join(answer.streaming_content))
    assert b"".join(pieces) == whole


def test_no_address_of_the_bucket_leaves_the_server(api, jd_api, claim, bucket, s3, s3_endpoint):
    body = _upload(api, claim, "IMG_0003.jpg", make_photo("private"))
    evidence = Evidence.objects.get(pk=body["id"])
    # the storage refuses to make a URL, presigned or not
    with pytest.raises(NotImplementedError):
        evidence_storage.url(evidence.file.name)
    # nothing the API answers names the bucket or carries a signature
    host = s3_endpoint.removeprefix("http://")
    path = body["download_url"].removeprefix("http://testserver")
    answers = [
        api.get(f"/api/v1/cases/{claim.reference}/"),
        api.get(f"/api/v1/cases/{claim.reference}/evidence/"),
        api.get(path),
    ]
    for answer in answers:
        assert answer.status_code == 200
        content = b"" if answer.streaming else answer.content
        text = content.decode(errors="replace") + json.dumps(dict(answer.headers))
        for secret in (host, bucket, "X-Amz-", "Signature=", "AWSAccessKeyId"):
            assert secret not in text, (answer, secret)
    # only the case's marketplace's clients get the file
    assert jd_api.get(path).status_code == 404
    # and the object grants nothing to the public
    grants = s3.get_object_acl(Bucket=bucket, Key=f"evidence/{evidence.file.name}")["Grants"]
    public = {
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    }
    assert not [g for g in grants if g["Grantee"].get("URI") in public]


def test_erasure_deletes_the_objects(api, claim, bucket, django_capture_on_commit_callbacks):
    from cases.actors import Actor
    from cases.choices import Door
    from cases.personal_data import personal_data_erase, personal_data_subject
    from cases.tasks import make_evidence_previews

    body = _upload(api, claim, "IMG_0004.jpg", make_photo("to erase"))
    make_evidence_previews(body["id"])
    assert len(stored_evidence()) == 2  # the file and its preview
    subject = personal_data_subject(order=claim.order.external_id)
    with django_capture_on_commit_callbacks(execute=True):
        personal_data_erase(subject=subject, actor=Actor.system("tests"), door=Door.COMMAND)
    assert stored_evidence() == []
