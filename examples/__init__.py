"""Reference services built on opsconductor-shared: the auth service and the service template."""
