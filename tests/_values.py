"""Values the offline client tests share: a host that is never resolved and a made-up API key."""

from __future__ import annotations

import base64

BASE = "http://onecodex.test"
KEY = "0ddba11c0ffee5ecre7deadbeef12345"
#: what ``Authorization: Basic`` carries for KEY (must never appear in an error either)
BASIC_TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()
ID = "0123456789abcdef"
SAMPLE = "a1b2c3d4e5f60718"
RECORD_PATH = f"/api/v1/alignments/{ID}"
LIST_PATH = "/api/v1/alignments"
ATTEMPTS = 5  # RetryPolicy's default number of attempts
