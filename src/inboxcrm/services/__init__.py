"""The use cases (ingest, the desk, outreach, scoring, access, privacy, reports), driving core through `core.ports`.
Imports core and services only: no adapters, web, cli, bootstrap, SQL, HTTP or mail protocols (those are ports)."""
