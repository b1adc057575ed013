"""Benchmarks and the fault soak of airflow-provider-onecodex (run with ``python -m bench...``)."""
