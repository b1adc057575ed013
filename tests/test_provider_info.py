"""get_provider_info(): valid against Airflow's schema, consistent with the package and the hook."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_onecodex.api.config import EXTRA_FIELDS
from airflow_provider_onecodex.get_provider_info import get_provider_info

INFO = get_provider_info()


def _import(path: str) -> object:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_validates_against_airflows_own_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(INFO, schema)


def test_package_name_is_the_distribution_name_and_its_entry_point():
    dist = importlib.metadata.distribution(INFO["package-name"])
    assert dist.metadata["Name"] == INFO["package-name"] == "airflow-provider-onecodex"
    entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.load()() for ep in entry_points] == [INFO]
    assert dist.version in INFO["versions"]


def test_every_listed_module_and_class_imports():
    modules = [
        m
        for key in ("hooks", "operators", "sensors", "triggers")
        for e in INFO[key]
        for m in e["python-modules"]
    ]
    assert len(modules) == 7  # hooks, operators (3: onecodex, jobs, uploads), sensors, triggers (2)
    for module in modules:
        importlib.import_module(module)
    for link in INFO["extra-links"]:
        assert _import(link).name == "One Codex"


def test_connection_type_matches_the_hook():
    (conn,) = INFO["connection-types"]
    hook = _import(conn["hook-class-name"])
    assert conn["connection-type"] == hook.conn_type == "onecodex"
    assert conn["hook-name"] == hook.hook_name
    assert hook.conn_name_attr == "onecodex_conn_id" and hook.default_conn_name == "onecodex_default"


def test_form_fields_match_the_extras_the_hook_reads():
    (conn,) = INFO["connection-types"]
    fields = conn["conn-fields"]
    assert set(fields) == set(EXTRA_FIELDS)
    for name, field in fields.items():
        assert field["schema"]["default"] == EXTRA_FIELDS[name][0], name
        assert field["description"]
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"]["password"] == "API key"
    assert {"login", "schema", "port"} <= set(behaviour["hidden-fields"])


def test_airflow_offers_the_connection_type_with_its_form():
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    assert "airflow-provider-onecodex" in pm.providers
    (meta,) = [m for m in pm.iter_connection_type_hook_ui_metadata() if m.connection_type == "onecodex"]
    assert meta.hook_name == "One Codex"
    assert meta.hook_class_name == "airflow_provider_onecodex.hooks.onecodex.OneCodexHook"
    assert meta.field_behaviour["relabeling"]["password"] == "API key"
    widgets = {k for k in pm.connection_form_widgets if k.startswith("extra__onecodex__")}
    assert widgets == {f"extra__onecodex__{n}" for n in EXTRA_FIELDS}
