"""Apache Airflow provider for the One Codex platform."""

__version__ = "0.1.0"
