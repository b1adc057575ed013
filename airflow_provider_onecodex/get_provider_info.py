"""Provider metadata read by Airflow's ProvidersManager. A pure dict: no imports, no I/O."""


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-provider-onecodex",
        "name": "One Codex",
        "description": "Wait for One Codex alignments and analyses, and fetch samples, results and metadata.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "connection-type": "onecodex",
                "hook-class-name": "airflow_provider_onecodex.hooks.onecodex.OneCodexHook",
                "hook-name": "One Codex",
            }
        ],
    }
