"""The OpsConductor auth service, built on opsconductor-shared (see `app`)."""
