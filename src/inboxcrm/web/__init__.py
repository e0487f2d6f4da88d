"""HTTP: the JSON API (`app`, `manage`, `data`, `reports`, …) and the signed-in pages (`pages`, `sign_in`, `render`).
Imports services, core and web only: never adapters, bootstrap, cli or SQL (data comes through services)."""
