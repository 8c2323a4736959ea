"""The targets service: the OpsConductor service template, built on opsconductor-shared."""
