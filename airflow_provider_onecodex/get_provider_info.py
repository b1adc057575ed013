"""Provider metadata read by Airflow's ProvidersManager. A pure dict: no imports, no I/O.

The connection form is declarative (``conn-fields``/``ui-field-behaviour``, Airflow 3.2+); the
extras' defaults mirror ``airflow_provider_onecodex.api.config.EXTRA_FIELDS`` (a test keeps them equal).
"""


def _field(label: str, description: str, kind: str, default: object, **bounds: object) -> dict[str, object]:
    """One optional field of the connection form: a ``kind`` (JSON Schema type) or null."""
    return {
        "label": label,
        "description": description,
        "schema": {"type": [kind, "null"], **bounds, "default": default},
    }


def get_provider_info() -> dict[str, object]:
    return {
        "package-name": "airflow-provider-onecodex",
        "name": "One Codex",
        "description": (
            "One Codex: wait for alignments and other analyses, fetch samples, results and "
            "metadata, and write metadata back."
        ),
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "One Codex",
                "external-doc-url": "https://developer.onecodex.com",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "One Codex", "python-modules": ["airflow_provider_onecodex.hooks.onecodex"]}
        ],
        "operators": [
            {
                "integration-name": "One Codex",
                "python-modules": [
                    "airflow_provider_onecodex.operators.onecodex",
                    "airflow_provider_onecodex.operators.jobs",
                    "airflow_provider_onecodex.operators.uploads",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "One Codex",
                "python-modules": ["airflow_provider_onecodex.sensors.onecodex"],
            }
        ],
        "triggers": [
            {
                "integration-name": "One Codex",
                "python-modules": [
                    "airflow_provider_onecodex.triggers.onecodex",
                    "airflow_provider_onecodex.triggers.events",
                ],
            }
        ],
        "extra-links": ["airflow_provider_onecodex.links.onecodex.OneCodexLink"],
        "connection-types": [
            {
                "connection-type": "onecodex",
                "hook-class-name": "airflow_provider_onecodex.hooks.onecodex.OneCodexHook",
                "hook-name": "One Codex",
                "ui-field-behaviour": {
                    "hidden-fields": ["login", "schema", "port"],
                    "relabeling": {"password": "API key", "host": "Base URL"},
                    "placeholders": {
                        "host": "https://app.onecodex.com",
                        "password": "32-character key from app.onecodex.com/settings",
                    },
                },
                "conn-fields": {
                    "auth_style": _field(
                        "Auth style",
                        "basic: HTTP Basic with the key as username (default); header: the X-API-Key header.",
                        "string",
                        "basic",
                        enum=["basic", "header"],
                    ),
                    "connect_timeout": _field(
                        "Connect timeout (s)",
                        "Seconds to wait for a connection to One Codex (default 10).",
                        "number",
                        10,
                        exclusiveMinimum=0,
                    ),
                    "read_timeout": _field(
                        "Read timeout (s)",
                        "Seconds to wait for a response once connected (default 60).",
                        "number",
                        60,
                        exclusiveMinimum=0,
                    ),
                    "max_retries": _field(
                        "Max retries",
                        "Retries of a transient failure (429, 5xx, timeouts) after the first attempt "
                        "(default 4).",
                        "integer",
                        4,
                        minimum=0,
                    ),
                    "max_retry_after": _field(
                        "Longest Retry-After (s)",
                        "Longest Retry-After honoured; a longer one fails the call at once so no worker "
                        "sleeps for hours (default 60).",
                        "number",
                        60,
                        minimum=0,
                    ),
                    "retry_initial_wait": _field(
                        "First retry wait (s)",
                        "Seconds of the first backoff between retries; doubles per attempt, with full "
                        "jitter, up to 30 s (default 1).",
                        "number",
                        1,
                        minimum=0,
                    ),
                    "page_size": _field(
                        "Page size",
                        "Records per page when listing, 1-1000 (default 100).",
                        "integer",
                        100,
                        minimum=1,
                        maximum=1000,
                    ),
                },
            }
        ],
    }
