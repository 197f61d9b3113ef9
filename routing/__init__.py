"""Routing: the China→Russia network, shipping services, timetables and the ETA engine (plain data only)."""

from routing.backtest import BacktestReport, HeldOut, run_backtest
from routing.errors import NetworkError, NoRoute, RoutingError, UnknownPlace, UnknownService
from routing.eta import EtaAnswer, EtaEngine, EtaEstimate
from routing.learning import LegObservation, fit, observations_from_tracks
from routing.model import LegTimeModel
from routing.network import Network, load_network
from routing.services import ServiceCatalog, load_services, route_for
from routing.tracks import ParcelTrack, TrackScan

__all__ = [
    "BacktestReport",
    "EtaAnswer",
    "EtaEngine",
    "EtaEstimate",
    "HeldOut",
    "LegObservation",
    "LegTimeModel",
    "Network",
    "NetworkError",
    "NoRoute",
    "ParcelTrack",
    "RoutingError",
    "ServiceCatalog",
    "TrackScan",
    "UnknownPlace",
    "UnknownService",
    "fit",
    "load_network",
    "load_services",
    "observations_from_tracks",
    "route_for",
    "run_backtest",
]
