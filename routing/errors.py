"""The errors the routing package raises, each naming the field or item at fault."""

from __future__ import annotations


class RoutingError(ValueError):
    """Base class: something asked of the routing package cannot be answered."""


class NetworkError(RoutingError):
    """The network data is invalid; ``problems`` lists every fault found, each naming its node or edge."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"invalid network data: {shown}{more}")


class UnknownPlace(RoutingError):
    """An origin, destination or scan place that is neither a node id nor a known place name."""

    def __init__(self, field: str, value: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: unknown place {value!r}")


class UnknownService(RoutingError):
    """A service code that is not in the services data."""

    def __init__(self, field: str, value: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: unknown service {value!r}")


class NoRoute(RoutingError):
    """The service cannot carry a parcel from the origin to the destination."""

    def __init__(self, service: str, origin: str, destination: str) -> None:
        self.service = service
        self.origin = origin
        self.destination = destination
        self.field = "destination"
        super().__init__(f"service {service!r} has no route from {origin!r} to {destination!r}")


class NoEstimate(NoRoute):
    """A parcel under way that neither way of the ETA engine can tell: the milestone model has nothing for
    it (``milestone`` says why) and the Monte Carlo run found no route from where it is."""

    def __init__(self, service: str, origin: str, destination: str, milestone: str) -> None:
        super().__init__(service, origin, destination)
        self.milestone = milestone
        how = "by no path of the network"
        if service != "unknown":
            how = f"neither with service {service!r} nor by any path of the network"
        self.args = (
            f"{milestone}, and the Monte Carlo run found no route from {origin!r} to {destination!r} ({how})",
        )
