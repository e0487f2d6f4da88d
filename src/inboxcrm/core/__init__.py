"""The functional core: pure functions over frozen dataclasses (reading mail, threads, rules, campaigns, tickets).
Imports only core, pure standard library and pure libraries: no I/O, config, services, adapters, web or cli."""
