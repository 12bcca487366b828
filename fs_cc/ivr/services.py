"""What node types of their own modules need from the engine, built once per engine.

A module registers a builder under a name; the engine builds every registered service when it
starts and hands the dict to each FlowRunner (``runner.services[name]``)::

    @flow_service("data_sources")
    def build_data_sources(engine):
        return DataSources.from_settings(engine.settings)
"""

BUILDERS = {}  # name -> function(engine) -> the service


def flow_service(name):
    """Register the decorated function as the builder of service ``name``."""

    def register(function):
        BUILDERS[name] = function
        return function

    return register


def build_flow_services(engine):
    """Every registered service, built for ``engine``, by name."""
    return {name: build(engine) for name, build in BUILDERS.items()}
